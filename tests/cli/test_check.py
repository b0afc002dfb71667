"""``langlock check``: plain text, stdin, output formats, fields, options, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import langlock
from tests.cli.common import (
    CLEAN,
    HAN,
    ROOT,
    assert_contract,
    invoke,
    jsonl_out,
    write_jsonl,
)

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
