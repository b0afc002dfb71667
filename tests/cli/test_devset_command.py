"""``langlock devset``: the checker scored on a labelled dev set."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.common import CLEAN, HAN, invoke, write_jsonl

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
