"""Bad input never stops a run: each bad file or line is an error record with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langlock.cli import app
from tests.cli.common import CLEAN, HAN, assert_contract, invoke, jsonl_out, runner

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
