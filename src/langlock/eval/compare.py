"""Base and tuned model side by side: the same prompts, strategies, seeds and settings in
two eval runs (``base/`` and ``tuned/`` under one folder), scored and reported together.

The tuned model's strategies are named ``tuned:<strategy>`` in the joint summary and report,
so every table and chart shows the two models row by row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langlock.eval.runner import EvalRun
from langlock.eval.scoring import AnswerRecord
from langlock.io import write_atomic

#: The prefix of the tuned model's strategies in the joint summary.
TUNED = "tuned:"


def tuned_name(strategy: str) -> str:
    """The tuned model's name for a strategy.

    >>> tuned_name("frame")
    'tuned:frame'
    """
    return TUNED + strategy


def joint_records(base: EvalRun, tuned: EvalRun) -> list[AnswerRecord]:
    """Every scored answer of both runs, the tuned one's strategies renamed."""
    renamed = [r | {"strategy": tuned_name(r["strategy"])} for r in tuned.records()]
    return base.records() + renamed


def joint_summary(base: EvalRun, tuned: EvalRun, records: list[AnswerRecord]) -> dict[str, Any]:
    """The summary of both runs: base strategies first, then the tuned model's."""
    names = [s.name for s in base.strategies]
    summary = base.summary(records, names + [tuned_name(n) for n in names])
    return summary | {
        "title": "langlock eval: base and tuned",
        "model": f"{base.backend.model} | tuned: {tuned.backend.model}",
        "base_model": base.backend.model,
        "tuned_model": tuned.backend.model,
    }


def write_joint_outputs(base: EvalRun, tuned: EvalRun, out_dir: Path) -> dict[str, Path]:
    """summary.json and report.html of both runs in ``out_dir`` (each written atomically)."""
    from langlock.eval.report import write_report

    records = joint_records(base, tuned)
    summary = joint_summary(base, tuned, records)
    summary_path = out_dir / "summary.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(summary_path, json.dumps(summary, ensure_ascii=False, indent=1))
    report = write_report(out_dir / "report.html", summary, records)
    return {
        "jsonl": base.jsonl,
        "tuned_jsonl": tuned.jsonl,
        "summary": summary_path,
        "report": report,
    }
