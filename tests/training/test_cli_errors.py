"""Bad options of ``langlock pairs`` and ``langlock train`` fail at once, with a clear line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from langlock.cli.app import app

runner = CliRunner()


def test_an_unknown_recipe_or_source_fails_before_sampling() -> None:
    result = runner.invoke(app, ["pairs", "--kind", "typo"])
    assert result.exit_code == 2 and "unknown corruption kind 'typo'" in result.output
    result = runner.invoke(app, ["pairs", "--source", "nope"])
    assert result.exit_code == 2 and "choose from model, corruption" in result.output


def test_train_refuses_an_unknown_loss_and_bad_pairs(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    result = runner.invoke(app, ["train", str(pairs), "--loss", "ppo"])
    assert result.exit_code == 2 and "unknown loss 'ppo'" in result.output
    pairs.write_text('{"prompt": "q"}\n', encoding="utf-8")
    result = runner.invoke(app, ["train", str(pairs), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "pairs.jsonl:1: a pair needs" in result.output
