"""A whole cleaning run: read, judge, write kept records and rejects, account for each one.

Every input record ends up in exactly one place: the kept file, or the rejects file with
its source (file and line) and reason; a blank line is counted as such; ``in = kept +
rejected + blank`` is checked at the end. All
outputs are written to temporary files and renamed together when the run has succeeded;
an error or Ctrl-C leaves no partial output. The stats hold no timings, so a re-run with
the same arguments writes byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from langlock.clean.engines import CleanerSpec, EngineName, run_inline, run_pool, run_ray
from langlock.clean.judging import Judged, Stats
from langlock.clean.readers import (
    BLOCK_BYTES,
    CHUNK,
    CorpusKind,
    Piece,
    TextUnit,
    chunked,
    count_records,
    input_kind,
    read_items,
    read_pieces,
)
from langlock.clean.records import AUTO, RecordFormat
from langlock.clean.writers import JsonlWriter, RecordWriter
from langlock.io import AtomicFiles, writes_directly


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
        suffix = name[len(stem) :] if kind != CorpusKind.hf else ""
        return cls(
            source.with_name(f"{stem}.clean{suffix}"),
            source.with_name(f"{stem}.rejects.jsonl"),
            source.with_name(f"{stem}.stats.json"),
        )


@dataclass(kw_only=True)
class CleanRun:
    source: Path
    paths: Paths
    spec: CleanerSpec
    engine: str = EngineName.local
    workers: int = 1
    ray_address: str | None = None
    limit: int | None = None
    kind: str | None = None
    output_kind: str | None = None
    text_unit: str = TextUnit.line

    @property
    def source_kind(self) -> CorpusKind:
        return CorpusKind(self.kind) if self.kind else input_kind(self.source)

    @property
    def expected_records(self) -> int | None:
        """How many records the run will judge, for a progress bar; None if unknown."""
        return self.limit or count_records(self.source)

    def pieces(self) -> Iterator[Piece]:
        """The input in pieces. ``--limit`` reads records one by one (a quick look, not a
        long run)."""
        if self.limit:
            items = read_items(self.source, self.source_kind, self.text_unit)
            return chunked(islice(items, self.limit), CHUNK)
        return read_pieces(self.source, self.source_kind, self.text_unit, BLOCK_BYTES, CHUNK)

    def judged(self, output_kind: CorpusKind) -> Iterator[Judged]:
        pieces = self.pieces()
        if self.engine == EngineName.ray:
            return run_ray(self.spec, output_kind, pieces, self.workers, self.ray_address)
        if self.engine == EngineName.local:
            return run_pool(self.spec, output_kind, pieces, self.workers)
        if self.engine == EngineName.inline:
            return run_inline(self.spec, output_kind, pieces)
        raise ValueError(f"unknown engine {self.engine!r}; choose local or ray")

    def run(self, on_progress: Callable[[int], None] | None = None) -> Stats:
        """Clean the whole input; outputs appear only if it all succeeds. ``on_progress``
        is told how many more records are done after each piece."""
        output_kind = CorpusKind(self.output_kind) if self.output_kind else self.source_kind
        outputs = AtomicFiles(make_folders=True)
        stats = Stats()
        try:
            kept = RecordWriter(target=self.paths.kept, kind=output_kind, outputs=outputs)
            rejects = JsonlWriter(self.paths.rejects, outputs)
            for judged in self.judged(output_kind):
                stats.merge(judged.stats)
                kept.write(judged.kept, judged.kept_count)
                rejects.write(judged.rejects, judged.rejects_count)
                if on_progress:
                    on_progress(judged.stats.records_in)
            kept.close()
            rejects.close()
            if stats.records_in != kept.count + rejects.count + stats.blank:
                raise RuntimeError(
                    f"records lost: {stats.records_in} in, {kept.count} kept, "
                    f"{rejects.count} rejected, {stats.blank} blank"
                )
            stats_file = outputs.temp_for(self.paths.stats)
            text = json.dumps(stats.to_dict(), ensure_ascii=False, indent=1) + "\n"
            stats_file.write_text(text, encoding="utf-8")
            outputs.commit()
        except BaseException:
            outputs.discard()
            raise
        return stats


def file_identity(path: Path) -> tuple[int, int] | str:
    """What ``path`` names, for telling whether two paths are one file: an existing file's
    device and inode (the same through symbolic and hard links), else the path with every
    link resolved.

    >>> file_identity(Path("a/../b.jsonl")) == file_identity(Path("b.jsonl"))
    True
    """
    try:
        info = path.stat()
    except OSError:
        return str(path.resolve())
    return (info.st_dev, info.st_ino)


def check_distinct(paths: dict[str, Path]) -> None:
    """Refuse a run where any two of input and outputs are one file (through links too):
    one output would replace the other, or the input its own kept subset. A character
    device (``/dev/null``) may take several outputs: nothing is replaced there.

    >>> check_distinct({"the input": Path("a.jsonl"), "--output": Path("./a.jsonl")})
    Traceback (most recent call last):
    ...
    ValueError: the input and --output are the same file (a.jsonl): choose another --output
    """
    seen: dict[tuple[int, int] | str, str] = {}
    for name, path in paths.items():
        if path.is_char_device():
            continue
        identity = file_identity(path)
        if identity in seen:
            raise ValueError(
                f"{seen[identity]} and {name} are the same file ({path}): choose another {name}"
            )
        seen[identity] = name


def plan_run(
    source: Path,
    *,
    kept: Path | None = None,
    rejects: Path | None = None,
    stats: Path | None = None,
    spec: CleanerSpec,
    engine: str = EngineName.local,
    workers: int = 1,
    ray_address: str | None = None,
    limit: int | None = None,
    output_kind: str | None = None,
    text_unit: str = TextUnit.line,
) -> CleanRun:
    """A run of ``langlock clean`` from its options, checked before any work starts: outputs
    not given go beside the input (``Paths.beside``). A bad option raises ``ValueError``
    (or ``OSError`` for a config file that cannot be read) with the message to show.

    >>> plan_run(Path("no/such.jsonl"), spec=CleanerSpec())
    Traceback (most recent call last):
    ...
    ValueError: no such input: no/such.jsonl
    """
    if not source.exists():
        raise ValueError(f"no such input: {source}")
    if spec.fmt != AUTO and spec.fmt not in set(RecordFormat):
        choices = ", ".join(RecordFormat)
        raise ValueError(f"unknown format {spec.fmt!r}; choose {AUTO}, {choices}")
    if output_kind is not None and output_kind not in set(CorpusKind):
        raise ValueError(f"unknown output format {output_kind!r}; choose {', '.join(CorpusKind)}")
    spec.build()  # a bad policy option fails here, not in a worker
    defaults = Paths.beside(source, output_kind or input_kind(source))
    paths = Paths(kept or defaults.kept, rejects or defaults.rejects, stats or defaults.stats)
    outputs = {"--output": paths.kept, "--rejects": paths.rejects, "--stats": paths.stats}
    check_distinct({"the input": source, **outputs})
    if (output_kind or input_kind(source)) == CorpusKind.hf and writes_directly(paths.kept):
        raise ValueError(f"a datasets folder cannot be written to {paths.kept}")
    return CleanRun(
        source=source,
        paths=paths,
        spec=spec,
        engine=engine,
        workers=workers,
        ray_address=ray_address,
        limit=limit,
        output_kind=output_kind,
        text_unit=text_unit,
    )
