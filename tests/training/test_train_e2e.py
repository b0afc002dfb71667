"""The training door end to end on the bundled model, as a user runs it: ``langlock pairs``
samples real answers, ``langlock train`` runs a few real LoRA steps, the adapter GGUF loads
over the quantized model in llama.cpp and answers; a rerun resumes, other settings are
refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from langlock.cli.app import app
from langlock.eval.scoring import score_answer
from langlock.policy import policy_for

pytestmark = pytest.mark.slow
pytest.importorskip("trl")
pytest.importorskip("llama_cpp")

runner = CliRunner()

#: English instructions the bundled base model answers in English when unframed.
PROMPTS = [
    "Describe how a refrigerator keeps food cold. Answer in Russian.",
    "What is the difference between RAM and a hard drive? Answer in Russian.",
    "Describe how a bicycle works. Answer in Russian.",
]


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pairs")
    prompts = folder / "prompts.jsonl"
    prompts.write_text(
        "".join(
            json.dumps({"id": f"t{i}", "category": "english_instruction", "prompt": p}) + "\n"
            for i, p in enumerate(PROMPTS)
        ),
        encoding="utf-8",
    )
    out = folder / "pairs.jsonl"
    result = runner.invoke(
        app,
        ["pairs", "--prompts", str(prompts), "--max-tokens", "48", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out


def test_pairs_are_checked_and_accounted(pairs_file: Path) -> None:
    stats = json.loads(pairs_file.with_name("pairs.stats.json").read_text(encoding="utf-8"))
    pairs = [json.loads(line) for line in pairs_file.read_text(encoding="utf-8").splitlines()]
    assert len(pairs) == stats["pairs"] >= 1
    assert stats["model"]["prompts"] == len(PROMPTS)
    assert stats["model"]["answers"] == 2 * len(PROMPTS)
    assert stats["pairs"] == stats["candidates"] - sum(stats["checked"]["dropped"].values())
    policy = policy_for("ru", "standard")
    for pair in pairs:
        prompt = pair["prompt"][0]["content"]
        assert prompt in PROMPTS  # the frame is not in the pair's prompt
        assert score_answer(pair["chosen"][0]["content"], prompt, policy)["ok"]
        assert not score_answer(pair["rejected"][0]["content"], prompt, policy)["ok"]
        assert pair["kind"] and pair["source"] in {"model", "corruption"}


def test_train_export_serve_and_resume(pairs_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", str(pairs_file), "--out", str(out), "--steps", "2", "--batch-size", "1"]
    args += ["--grad-accum", "1", "--save-steps", "1", "--rank", "4", "--no-quality"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["state"] == "done" and run["metrics"]["steps"] == 2
    assert len(run["pairs_sha256"]) == 64 and run["settings"]["loss"] == "dpo+sft"
    assert (out / "adapter_config.json").is_file() and (out / "adapter.gguf").is_file()

    answer = runner.invoke(
        app,
        ["generate", PROMPTS[0], "--lora", str(out / "adapter.gguf"), "--max-tokens", "16"],
    )
    assert answer.exit_code == 0, answer.output
    assert answer.output.strip()

    compared = tmp_path / "cmp"
    eval_args = ["eval", "--lora", str(out / "adapter.gguf"), "--strategy", "none"]
    eval_args += ["--limit", "2", "--samples", "1", "--max-tokens", "8", "--out", str(compared)]
    evaluation = runner.invoke(app, eval_args)
    assert evaluation.exit_code == 0, evaluation.output
    summary = json.loads((compared / "summary.json").read_text(encoding="utf-8"))
    assert summary["strategies"] == ["none", "tuned:none"]
    assert summary["generations"] == summary["expected"] == 4
    assert "LoRA adapter.gguf" in summary["tuned_model"]
    assert (compared / "base" / "generations.jsonl").is_file()
    assert "tuned:none" in (compared / "report.html").read_text(encoding="utf-8")

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    rerun = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert rerun["metrics"]["resumed_from"].endswith("checkpoint-2")

    other = runner.invoke(app, [*args[:-1], "--steps", "3"])
    assert other.exit_code == 2
    assert "other settings or pairs" in other.output


def test_a_missing_adapter_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "Привет", "--lora", str(tmp_path / "no.gguf")])
    assert result.exit_code == 2
    assert "no LoRA adapter at" in result.output
