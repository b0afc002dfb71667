"""A whole cleaning run: read, judge, write kept records and rejects, account for each one.

Every input record ends up in exactly one place: the kept file, or the rejects file with
its source (file and line) and reason; ``in = kept + rejected`` is checked at the end. All
outputs are written to temporary files and renamed together when the run has succeeded;
an error or Ctrl-C leaves no partial output. The stats hold no timings, so a re-run with
the same arguments writes byte-identical files.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from langlock.clean.cleaner import Outcome
from langlock.clean.engines import CleanerSpec, run_inline, run_pool, run_ray
from langlock.clean.io import AtomicOutputs, Item, JsonlWriter, RecordWriter, input_kind, read_items


@dataclass
class Paths:
    kept: Path
    rejects: Path
    stats: Path

    @classmethod
    def beside(cls, source: Path, kind: str) -> Paths:
        """Default outputs next to the input: ``x.clean.jsonl``, ``x.rejects.jsonl``,
        ``x.stats.json``.

        >>> Paths.beside(Path("d/chat.jsonl.gz"), "jsonl").kept
        PosixPath('d/chat.clean.jsonl.gz')
        """
        name = source.name
        stem = name.split(".")[0] if "." in name else name
        suffix = name[len(stem) :] if kind != "hf" else ""
        return cls(
            source.with_name(f"{stem}.clean{suffix}"),
            source.with_name(f"{stem}.rejects.jsonl"),
            source.with_name(f"{stem}.stats.json"),
        )


@dataclass
class Stats:
    """What a run did, in numbers."""

    records_in: int = 0
    kept: int = 0
    repaired: int = 0
    rejected: int = 0
    unreadable: int = 0
    bad_format: int = 0
    findings_by_kind: Counter[str] = field(default_factory=Counter)
    findings_by_field: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: Item, outcome: Outcome | None) -> None:
        self.records_in += 1
        if outcome is None:
            self.unreadable += 1
            self.rejected += 1
            return
        for name, findings in outcome.findings.items():
            for f in findings:
                self.findings_by_kind[f["kind"]] += 1
                self.findings_by_field[_field_kind(name)] += 1
        if outcome.status == "rejected":
            self.rejected += 1
            self.bad_format += outcome.reason.startswith("format:")
            if len(self.examples) < 5:
                self.examples.append({"source": item.source, "reason": outcome.reason})
        else:
            self.kept += 1
            self.repaired += outcome.status == "repaired"

    def to_dict(self) -> dict[str, Any]:
        return {
            "records_in": self.records_in,
            "kept": self.kept,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "rejected_unreadable": self.unreadable,
            "rejected_format": self.bad_format,
            "rejected_findings": self.rejected - self.unreadable - self.bad_format,
            "balanced": self.records_in == self.kept + self.rejected,
            "findings_by_kind": dict(sorted(self.findings_by_kind.items())),
            "findings_by_field": dict(sorted(self.findings_by_field.items())),
            "examples": self.examples,
        }


def _field_kind(name: str) -> str:
    """Turn numbers out of a field path, so turns of every record count together.

    >>> _field_kind("messages[3].content")
    'messages[].content'
    """
    import re

    return re.sub(r"\[\d+\]", "[]", name)


@dataclass
class CleanRun:
    source: Path
    paths: Paths
    spec: CleanerSpec
    engine: str = "local"
    workers: int = 1
    ray_address: str | None = None
    limit: int | None = None
    kind: str | None = None
    output_kind: str | None = None
    text_unit: str = "line"

    def items(self) -> Iterator[Item]:
        kind = self.kind or input_kind(self.source)
        items = read_items(self.source, kind, self.text_unit)
        return islice(items, self.limit) if self.limit else items

    def outcomes(self) -> Iterator[tuple[Item, Outcome | None]]:
        if self.engine == "ray":
            return run_ray(self.spec, self.items(), self.workers, self.ray_address)
        if self.engine == "local":
            return run_pool(self.spec, self.items(), self.workers)
        if self.engine == "inline":
            return run_inline(self.spec, self.items())
        raise ValueError(f"unknown engine {self.engine!r}; choose local or ray")

    def run(self, on_record: Callable[[Item], None] | None = None) -> Stats:
        """Clean the whole input; outputs appear only if it all succeeds."""
        kind = self.kind or input_kind(self.source)
        outputs = AtomicOutputs()
        stats = Stats()
        try:
            kept = RecordWriter(self.paths.kept, self.output_kind or kind, outputs)
            rejects = JsonlWriter(self.paths.rejects, outputs)
            for item, outcome in self.outcomes():
                stats.add(item, outcome)
                if outcome is None:
                    rejects.write({"source": item.source, "reason": item.error, "raw": item.raw})
                elif outcome.status == "rejected":
                    rejects.write(
                        {
                            "source": item.source,
                            "reason": outcome.reason,
                            "findings": outcome.findings,
                            "record": item.record,
                        }
                    )
                else:
                    kept.write(outcome.record or {})
                if on_record:
                    on_record(item)
            kept.close()
            rejects.close()
            if stats.records_in != kept.count + rejects.count:
                raise RuntimeError(
                    f"records lost: {stats.records_in} in, {kept.count} kept, "
                    f"{rejects.count} rejected"
                )
            stats_file = outputs.temp_for(self.paths.stats)
            text = json.dumps(stats.to_dict(), ensure_ascii=False, indent=1) + "\n"
            stats_file.write_text(text, encoding="utf-8")
            outputs.commit()
        except BaseException:
            outputs.discard()
            raise
        return stats
