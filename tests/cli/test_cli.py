"""The ``langlock`` command: inputs, formats, exit codes, bad input, fix, devset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import langlock
from langlock.cli import app
from langlock.text.findings import KINDS

ROOT = Path(__file__).resolve().parents[2]
CLEAN = "Привет! Как дела? У нас всё хорошо, спасибо.\n"
HAN = "Над лесом висели 厚厚的 облака.\n"  # foreign_script, major
ZWSP = "Это при\u200bвет от нас.\n"  # invisible, major, fixable
FINDING_KEYS = {"kind", "severity", "start", "end", "line", "text", "message", "fix"}

runner = CliRunner()


def invoke(*args: str | Path, input: str | bytes | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def jsonl_out(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def write_jsonl(path: Path, *records: Any) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def assert_contract(record: dict[str, Any], text: str | None = None) -> None:
    """One output record follows DESIGN.md's JSONL contract (checked against ``text``)."""
    assert set(record) == {"id", "ok", "findings"}
    assert isinstance(record["ok"], bool)
    for f in record["findings"]:
        assert set(f) == FINDING_KEYS
        assert f["kind"] in KINDS
        assert f["severity"] in ("minor", "major")
        assert isinstance(f["start"], int) and isinstance(f["end"], int)
        assert 0 <= f["start"] <= f["end"]
        assert isinstance(f["line"], int) and f["line"] >= 1
        assert isinstance(f["message"], str)
        assert f["fix"] is None or isinstance(f["fix"], str)
        if text is not None:
            assert text[f["start"] : f["end"]] == f["text"]
            assert text.count("\n", 0, f["start"]) + 1 == f["line"]
    assert record["ok"] == (not any(f["severity"] == "major" for f in record["findings"]))


# -- plain text, stdin, formats, exit codes -------------------------------------------------


def test_clean_text_file_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "clean.txt"
    path.write_text(CLEAN)
    result = invoke("check", path)
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout
    assert "1 records = 1 ok + 0 failing + 0 errors" in result.stdout


def test_failing_text_file_human_output(tmp_path: Path) -> None:
    path = tmp_path / "han.txt"
    path.write_text(CLEAN + HAN)
    result = invoke("check", path)
    assert result.exit_code == 1
    out = result.stdout
    assert "FAIL" in out and "foreign_script" in out and "厚厚的" in out
    assert "2:" in out  # the finding's line
    assert "1 records = 0 ok + 1 failing + 0 errors" in out
    assert "findings per kind" in out


def test_human_output_highlights_span() -> None:
    from langlock.cli.check import span_in_line

    text = span_in_line("x" * 300 + " 厚厚的 " + "y" * 300, 301, 304, "bold red")
    assert text.plain.startswith("    …") and text.plain.endswith("…")
    (span,) = text.spans
    assert text.plain[span.start : span.end] == "厚厚的"
    assert "bold red" in str(span.style)


def test_jsonl_format_follows_contract(tmp_path: Path) -> None:
    path = tmp_path / "han.txt"
    path.write_text(HAN)
    result = invoke("check", "--format", "jsonl", path)
    assert result.exit_code == 1
    (record,) = jsonl_out(result.stdout)
    assert_contract(record, HAN)
    assert record["id"] == str(path)
    assert not record["ok"]
    assert "foreign_script" in {f["kind"] for f in record["findings"]}


def test_json_format_is_one_array_matching_jsonl(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", {"id": "a", "text": CLEAN}, {"id": "b", "text": HAN})
    as_json = invoke("check", "-f", "json", data)
    as_jsonl = invoke("check", "-f", "jsonl", data)
    assert as_json.exit_code == as_jsonl.exit_code == 1
    array = json.loads(as_json.stdout)
    assert array == jsonl_out(as_jsonl.stdout)
    assert [r["id"] for r in array] == ["a", "b"]
    for record, text in zip(array, (CLEAN, HAN), strict=True):
        assert_contract(record, text)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert json.loads(invoke("check", "-f", "json", empty).stdout) == []


def test_jsonl_custom_fields(tmp_path: Path) -> None:
    data = write_jsonl(
        tmp_path / "custom.jsonl",
        {"key": "k1", "answer": CLEAN, "question": "Как дела?", "text": "ignored 厚"},
        {"key": "k2", "answer": HAN, "question": "Опиши небо"},
    )
    args = ["--text-field", "answer", "--prompt-field", "question", "--id-field", "key"]
    result = invoke("check", "-f", "jsonl", *args, data)
    assert result.exit_code == 1
    records = jsonl_out(result.stdout)
    assert [r["id"] for r in records] == ["k1", "k2"]
    assert [r["ok"] for r in records] == [True, False]


def test_fields_and_options_reach_the_checker(tmp_path: Path, monkeypatch: Any) -> None:
    calls: list[dict[str, Any]] = []
    real = langlock.check

    def spy(text: str, **kwargs: Any) -> Any:
        calls.append({"text": text, **kwargs})
        return real(text, **kwargs)

    monkeypatch.setattr(langlock, "check", spy)
    data = write_jsonl(
        tmp_path / "p.jsonl",
        {"answer": "Да.", "question": "Вопрос?"},
        {"answer": "Нет."},
    )
    result = invoke(
        "check", "--text-field", "answer", "--prompt-field", "question",
        "--prompt", "по умолчанию", "--preset", "strict", "--allow", "Foo", data,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [(c["text"], c["prompt"]) for c in calls] == [
        ("Да.", "Вопрос?"),
        ("Нет.", "по умолчанию"),  # --prompt is the default for records without one
    ]
    policy = calls[0]["policy"]
    assert policy.preset.name == "strict" and "foo" in policy.allow
    assert calls[0]["preset"] == "strict" and calls[0]["lang"] == "ru"


def test_default_id_is_file_and_line(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "noid.jsonl", {"text": CLEAN})
    (record,) = jsonl_out(invoke("check", "-f", "jsonl", data).stdout)
    assert record["id"] == f"{data}:1"


def test_stdin_plain_and_jsonl() -> None:
    result = invoke("check", "-f", "jsonl", "-", input=HAN)
    assert result.exit_code == 1
    (record,) = jsonl_out(result.stdout)
    assert record["id"] == "<stdin>"
    assert_contract(record, HAN)

    # No FILES reads stdin too; --jsonl parses it as JSONL.
    lines = json.dumps({"id": 1, "text": CLEAN}) + "\n" + json.dumps({"id": 2, "text": CLEAN})
    result = invoke("check", "--jsonl", "-f", "jsonl", input=lines)
    assert result.exit_code == 0
    assert [r["id"] for r in jsonl_out(result.stdout)] == [1, 2]


def test_presets_change_the_verdict(tmp_path: Path) -> None:
    path = tmp_path / "python.txt"
    path.write_text("Установите Python и запустите скрипт.\n")
    assert invoke("check", path).exit_code == 0
    assert invoke("check", "--preset", "strict", path).exit_code == 1


def test_config_file(tmp_path: Path) -> None:
    config = tmp_path / "langlock.toml"
    config.write_text('preset = "strict"\n')
    path = tmp_path / "python.txt"
    path.write_text("Установите Python и запустите скрипт.\n")
    assert invoke("check", "--config", config, path).exit_code == 1
    broken = tmp_path / "broken.toml"
    broken.write_text("preset = \n")
    result = invoke("check", "--config", broken, path)
    assert result.exit_code == 2
    assert "config" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(CLEAN)
    assert invoke("check", "--preset", "sloppy", path).exit_code == 2
    result = invoke("check", "--lang", "xx", path)
    assert result.exit_code == 2
    assert "xx" in result.stderr


def test_missing_file_is_an_error_record_and_the_rest_runs(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(CLEAN)
    missing = tmp_path / "missing.txt"
    result = invoke("check", "-f", "jsonl", missing, path)
    assert result.exit_code == 2
    error, record = jsonl_out(result.stdout)
    assert error["id"] == str(missing) and "cannot read" in error["error"]
    assert record["ok"] is True
    assert "2 records = 1 ok + 0 failing + 1 errors" in result.stderr


# -- bad input -------------------------------------------------------------------------------


def bad_jsonl(path: Path) -> Path:
    """Ten non-blank lines: 3 good records, 7 bad ones, blank lines in between."""
    lines = [
        json.dumps({"id": "good1", "text": CLEAN}).encode(),
        b'{"id": "broken", "text": "unterminated',
        b'{"id": "utf8", "text": "\xd0\x9f\xff\xfe"}',
        json.dumps({"id": "notext"}).encode(),
        json.dumps({"id": "number", "text": 42}).encode(),
        b"[1, 2, 3]",
        b"",
        json.dumps({"id": "good2", "text": HAN}).encode(),
        b'{"id": "surrogate", "text": "\\u043f\\ud800\\u0440\\u0438"}',
        json.dumps({"id": "badprompt", "text": CLEAN, "prompt": ["x"]}).encode(),
        b"   ",
        b"[" * 100_000,
    ]
    path.write_bytes(b"\n".join(lines))  # no newline at the end
    return path


def test_bad_jsonl_lines_become_error_records(tmp_path: Path) -> None:
    data = bad_jsonl(tmp_path / "bad.jsonl")
    result = invoke("check", "-f", "jsonl", data)
    assert result.exit_code == 2
    records = jsonl_out(result.stdout)
    assert len(records) == 10  # every non-blank line is accounted for, in order
    by_id = {r["id"]: r for r in records if "ok" in r}
    assert set(by_id) == {"good1", "good2", "surrogate"}
    assert by_id["good1"]["ok"] and not by_id["good2"]["ok"]
    errors = [r for r in records if "error" in r]
    assert len(errors) == 7
    for error in errors:
        assert set(error) == {"id", "error"}
        assert error["error"].startswith(f"{data}:")
    messages = "\n".join(e["error"] for e in errors)
    assert f"{data}:2: malformed JSON" in messages
    assert f"{data}:3: invalid UTF-8" in messages
    assert f'{data}:4: missing field "text"' in messages
    assert f'{data}:5: field "text" is not a string (got int)' in messages
    assert f"{data}:6: expected a JSON object, got array" in messages
    assert f'{data}:10: field "prompt" is not a string' in messages
    assert f"{data}:12: malformed JSON" in messages
    ok = sum(r["ok"] for r in by_id.values())  # the surrogate record's verdict is the core's
    assert f"10 records = {ok} ok + {3 - ok} failing + 7 errors" in result.stderr

    human = invoke("check", data)
    assert human.exit_code == 2
    assert human.stdout.count("error  ") == 7
    assert f"10 records = {ok} ok + {3 - ok} failing + 7 errors" in human.stdout


def test_lone_surrogate_output_is_valid_utf8_json(tmp_path: Path) -> None:
    data = tmp_path / "s.jsonl"
    data.write_bytes(b'{"id": 1, "text": "\\ud800 \\udfff\\u200b"}\n')
    result = runner.invoke(app, ["check", "-f", "jsonl", str(data)])
    assert not isinstance(result.exception, Exception), result.output
    assert result.exit_code in (0, 1)
    raw = result.stdout_bytes.decode("utf-8")  # strict: the output is valid UTF-8
    (record,) = jsonl_out(raw)
    assert_contract(record, "\ud800 \udfff\u200b")
    human = runner.invoke(app, ["check", str(data)])
    assert not isinstance(human.exception, Exception), human.output
    assert human.exit_code in (0, 1)


def test_invalid_utf8_text_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Привет ".encode() + "café!".encode("latin-1"))
    result = invoke("check", "-f", "jsonl", path)
    assert result.exit_code == 2
    (error,) = jsonl_out(result.stdout)
    message = f"{path}: invalid UTF-8 at byte 16 (invalid continuation byte)"
    assert error == {"id": str(path), "error": message}
    human = invoke("check", path)
    assert human.exit_code == 2 and "invalid UTF-8" in human.stdout


def test_empty_files(tmp_path: Path) -> None:
    text = tmp_path / "empty.txt"
    text.write_bytes(b"")
    result = invoke("check", "-f", "jsonl", text)
    assert result.exit_code == 0
    assert jsonl_out(result.stdout) == [{"id": str(text), "ok": True, "findings": []}]
    data = tmp_path / "empty.jsonl"
    data.write_bytes(b"\n\n")
    result = invoke("check", "-f", "jsonl", data)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no records" in result.stderr


def test_bom_is_not_a_finding(tmp_path: Path) -> None:
    data = tmp_path / "bom.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": CLEAN}).encode() + b"\n")
    assert invoke("check", data).exit_code == 0
    text = tmp_path / "bom.txt"
    text.write_bytes(b"\xef\xbb\xbf" + CLEAN.encode())
    assert invoke("check", text).exit_code == 0


@pytest.mark.parametrize("ending", [b"\n", b""])
def test_huge_line_is_an_error_and_the_rest_runs(tmp_path: Path, ending: bytes) -> None:
    data = tmp_path / "huge.jsonl"
    huge = b'{"id": "huge", "text": "' + b"a" * (50 * 1024 * 1024) + b'"}'
    with data.open("wb") as f:
        f.write(json.dumps({"id": "before", "text": CLEAN}).encode() + b"\n")
        f.write(huge + ending)
        if ending:
            f.write(json.dumps({"id": "after", "text": HAN}).encode() + b"\n")
    result = invoke("check", "-f", "jsonl", data)
    assert result.exit_code == 2
    records = jsonl_out(result.stdout)
    assert records[0] == {"id": "before", "ok": True, "findings": []}
    assert records[1]["id"] is None
    size = len(huge) + len(ending)
    assert f"{data}:2: line of {size} bytes is over --max-bytes" in records[1]["error"]
    if ending:
        assert records[2]["id"] == "after" and not records[2]["ok"]
    assert len(records) == (3 if ending else 2)


def test_huge_text_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"x" * 2000)
    result = invoke("check", "-f", "jsonl", "--max-bytes", "1000", path)
    assert result.exit_code == 2
    (error,) = jsonl_out(result.stdout)
    assert error["error"] == f"{path}: 2000 bytes is over --max-bytes 1000"


# -- fix -------------------------------------------------------------------------------------


def test_fix_plain_text_to_stdout_and_file(tmp_path: Path) -> None:
    path = tmp_path / "zwsp.txt"
    path.write_text(ZWSP)
    result = invoke("fix", path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Это привет от нас.\n"

    out = tmp_path / "out" / "fixed.txt"
    out.parent.mkdir()
    out.write_text("old")
    out.chmod(0o640)
    result = invoke("fix", path, "-o", out, "--explain")
    assert result.exit_code == 0
    assert out.read_text() == "Это привет от нас.\n"
    assert oct(out.stat().st_mode & 0o777) == oct(0o640)  # permissions kept
    assert sorted(p.name for p in out.parent.iterdir()) == ["fixed.txt"]  # no temp left
    assert result.stdout == ""
    assert "invisible" in result.stderr and "U+200B" in result.stderr
    assert "→" in result.stderr


def test_fix_in_place_is_atomic(tmp_path: Path, monkeypatch: Any) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", {"id": 1, "text": ZWSP}, {"id": 2, "text": ZWSP})
    before = data.read_bytes()
    calls = 0
    real = langlock.fix

    def interrupted(text: str, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real(text, **kwargs)

    monkeypatch.setattr(langlock, "fix", interrupted)
    result = runner.invoke(app, ["fix", str(data), "-o", str(data)])
    assert result.exit_code != 0
    assert data.read_bytes() == before  # the half-written output never replaced the input
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]

    monkeypatch.setattr(langlock, "fix", real)
    result = invoke("fix", data, "-o", data)
    assert result.exit_code == 0
    assert [r["text"] for r in jsonl_out(data.read_text())] == ["Это привет от нас.\n"] * 2


def test_fix_jsonl_keeps_records_and_copies_bad_lines(tmp_path: Path) -> None:
    data = tmp_path / "mixed.jsonl"
    good = {"id": "z", "answer": ZWSP, "model": "m", "extra": [1, {"a": None}]}
    lines = [
        json.dumps(good, ensure_ascii=False).encode(),
        b"{not json",
        b'{"id": "u", "answer": "\xff"}',
        json.dumps({"id": "h", "answer": HAN}, ensure_ascii=False).encode(),
    ]
    data.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "fixed.jsonl"
    result = invoke("fix", "--text-field", "answer", data, "-o", out, "--explain")
    assert result.exit_code == 2
    written = out.read_bytes().split(b"\n")
    assert json.loads(written[0]) == {**good, "answer": "Это привет от нас.\n"}
    assert written[1:3] == lines[1:3]  # bad lines copied through unchanged
    assert json.loads(written[3])["answer"] == HAN  # nothing certain to fix
    assert "mixed.jsonl:2: malformed JSON" in result.stderr
    assert "4 records = 1 ok + 1 failing + 2 errors" in result.stderr


def test_fix_huge_line_is_copied_through(tmp_path: Path) -> None:
    data = tmp_path / "big.jsonl"
    big = json.dumps({"text": "a" * 5000}).encode()
    data.write_bytes(big + b"\n" + json.dumps({"text": ZWSP}).encode())
    result = invoke("fix", "--max-bytes", "1000", data)
    assert result.exit_code == 2
    first, second = result.stdout_bytes.split(b"\n")[:2]
    assert first == big
    assert json.loads(second)["text"] == "Это привет от нас.\n"


def test_fix_refuses_several_plain_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(CLEAN)
    b.write_text(CLEAN)
    result = invoke("fix", a, b)
    assert result.exit_code == 2
    assert "one plain-text file" in result.stderr


# -- devset ----------------------------------------------------------------------------------


def tiny_devset(path: Path) -> Path:
    return write_jsonl(
        path,
        {
            "id": "a1",
            "prompt": "Опиши небо",
            "text": CLEAN + HAN + "Установите Python.",
            "lines": {
                "1": {"bad": False, "kinds": [], "minor": [], "spans": []},
                "2": {"bad": True, "kinds": ["foreign_script"], "minor": [], "spans": ["厚厚的"]},
                "3": {"bad": False, "kinds": [], "minor": [], "spans": []},
            },
        },
    )


def test_devset_command_tables_and_json(tmp_path: Path) -> None:
    path = tiny_devset(tmp_path / "dev.jsonl")
    result = invoke("devset", path, "--show-errors", "3")
    assert result.exit_code == 0, result.output
    for word in ("langlock", "latin", "precision", "F1", "foreign_script", "false positives"):
        assert word in result.stdout
    data = json.loads(invoke("devset", path, "--json").stdout)
    assert data["answers"] == 1 and data["labelled_lines"] == 3 and data["bad_lines"] == 1
    langlock_scores = data["systems"]["langlock"]
    assert langlock_scores["tp"] == 1 and langlock_scores["fn"] == 0
    assert langlock_scores["kind_recall"]["foreign_script"] == {"recall": 1.0, "hits": 1, "n": 1}
    latin = data["systems"]["latin"]
    assert (latin["tp"], latin["fp"], latin["tn"]) == (0, 1, 1)  # line 3 has Latin letters
    if "lcb" in data["systems"]:
        assert data["systems"]["lcb"]["tp"] + data["systems"]["lcb"]["fn"] == 1


def test_devset_missing_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("devset", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert "dev set not found" in result.stderr


# -- a real process --------------------------------------------------------------------------


def test_python_dash_m_langlock(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", {"id": 1, "text": CLEAN}, {"id": 2, "text": HAN})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "langlock", "check", "--format", "jsonl", str(data)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode()
    records = jsonl_out(proc.stdout.decode("utf-8"))
    assert [(r["id"], r["ok"]) for r in records] == [(1, True), (2, False)]
    assert b"Traceback" not in proc.stderr
