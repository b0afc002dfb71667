"""What the CLI tests share: the runner, sample answers, output parsing, the JSONL contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

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
