"""``langlock fix``: fixed text or JSONL out, atomic files, bad input copied through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import langlock
from langlock.cli import app
from tests.cli.common import CLEAN, HAN, ZWSP, invoke, jsonl_out, runner, write_jsonl

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


def test_unchanged_input_comes_out_byte_identical(tmp_path: Path) -> None:
    """Found by fuzzing the CLI: JSONL lost its blank lines and had CRLF rewritten, and a
    text file lost its BOM, while fix reported nothing changed."""
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(
        b'\xef\xbb\xbf{"id":1, "text":"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}\r\n'
        b"\r\n\n"
        + json.dumps({"id": 2, "text": ZWSP}).encode()
        + b"\r\n"
        + b'{"id": 3, "text": "ok"}'
    )
    out = tmp_path / "out.jsonl"
    result = invoke("fix", jsonl, "-o", out)
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().split(b"\n")
    original = jsonl.read_bytes().split(b"\n")
    assert len(lines) == len(original)
    assert lines[:3] == original[:3] and lines[4:] == original[4:]  # untouched, byte for byte
    assert lines[3].endswith(b"\r") and json.loads(lines[3])["text"] == "Это привет от нас.\n"

    text = tmp_path / "bom.txt"
    text.write_bytes("\ufeffПривет, мир.\r\n".encode())
    out = tmp_path / "bom-out.txt"
    assert invoke("fix", text, "-o", out).exit_code == 0
    assert out.read_bytes() == text.read_bytes()
    text.write_bytes(("\ufeff" + ZWSP).encode())
    assert invoke("fix", text, "-o", out).exit_code == 0
    assert out.read_bytes() == "\ufeffЭто привет от нас.\n".encode()


def test_a_closed_stdin_is_a_clear_error_not_a_traceback() -> None:
    import subprocess
    import sys

    for args in (["check"], ["check", "-"], ["fix"]):
        done = subprocess.run(
            [sys.executable, "-m", "langlock", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            preexec_fn=lambda: __import__("os").close(0),
        )
        assert "Traceback" not in done.stderr, done.stderr
        said = done.stdout + done.stderr
        assert "stdin is closed" in said and done.returncode == 2, (args, said)
