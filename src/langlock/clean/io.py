"""Streaming readers and atomic writers for corpora: JSONL (also ``.gz``/``.zst``), Parquet,
CSV, a ``datasets`` folder saved with ``save_to_disk``, and plain text.

Readers stream (memory stays flat on inputs larger than RAM): line-based files in blocks of
raw lines that workers parse, other kinds as ``Item``s. A line that is not JSON, not UTF-8
or not an object becomes an ``Item`` with an error, never an exception, so the run accounts
for it. Writers write to a temporary file beside the target and rename it only when the
whole run succeeded.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

Kind = str  # "jsonl" | "parquet" | "csv" | "hf" | "text"
KINDS = ("jsonl", "parquet", "csv", "hf", "text")
#: Pieces handed to workers: blocks of about 1 MB of lines, or 256 records (Ray tasks take
#: runs of them).
BLOCK_BYTES = 1 << 20
CHUNK = 256


@dataclass(frozen=True)
class Item:
    """One input record, or why one could not be read."""

    source: str
    record: dict[str, Any] | None
    error: str | None = None
    raw: str | None = None


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of a line-based file (JSONL or text), not yet parsed: what a worker gets,
    so that decoding and parsing happen in the workers, not in the process that reads."""

    kind: str  # "jsonl" or "text"
    name: str
    first_line: int
    data: bytes

    def items(self) -> Iterator[Item]:
        """The block's records, numbered by their lines in the file.

        >>> block = LineBlock("jsonl", "a.jsonl", 7, b'{"text": "x"}\\n\\n[1]\\n')
        >>> [(i.source, i.record, i.error) for i in block.items()]
        [('a.jsonl:7', {'text': 'x'}, None), ('a.jsonl:9', None, 'not a JSON object')]
        """
        lines = self.data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()  # the block ends with a newline
        parse = _jsonl_item if self.kind == "jsonl" else _text_item
        for number, raw in enumerate(lines, self.first_line):
            if raw.strip():
                yield parse(raw, f"{self.name}:{number}")


#: What engines hand to a worker: a block of raw lines, or records already read.
Piece = LineBlock | list[Item]


def piece_items(piece: Piece) -> list[Item]:
    return list(piece.items()) if isinstance(piece, LineBlock) else piece


def input_kind(path: Path) -> Kind:
    """What a path holds, by its name (and, for a folder, its ``datasets`` files).

    >>> input_kind(Path("a.jsonl.zst")), input_kind(Path("b.parquet")), input_kind(Path("c.txt"))
    ('jsonl', 'parquet', 'text')
    """
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "state.json").exists():
            return "hf"
        return "text"
    suffixes = [s.lower() for s in path.suffixes] or [""]
    compressed = suffixes[-1] in (".gz", ".zst") and len(suffixes) > 1
    base = suffixes[-2] if compressed else suffixes[-1]
    return {
        ".jsonl": "jsonl",
        ".json": "jsonl",
        ".ndjson": "jsonl",
        ".parquet": "parquet",
        ".csv": "csv",
        ".txt": "text",
    }.get(base, "jsonl")


def open_binary(path: Path, mode: str = "rb") -> IO[bytes]:
    """A file, decompressed or compressed by its suffix (``.gz``, ``.zst``)."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, mode)  # type: ignore[return-value]
    if suffix == ".zst":
        import zstandard

        raw = path.open(mode)
        if "r" in mode:
            return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)  # type: ignore[return-value]
        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=True)  # type: ignore[return-value]
    return path.open(mode)


def read_pieces(
    path: Path,
    kind: Kind,
    text_unit: str = "line",
    block_bytes: int = BLOCK_BYTES,
    chunk: int = CHUNK,
) -> Iterator[Piece]:
    """The input in pieces, in order: blocks of about ``block_bytes`` of whole lines for
    JSONL and line-based text (parsed later, by the workers), else ``chunk`` records."""
    if kind == "jsonl":
        yield from _line_blocks(path, "jsonl", block_bytes)
    elif kind == "text" and text_unit == "line":
        for file in _text_files(path):
            yield from _line_blocks(file, "text", block_bytes)
    else:
        yield from chunked(_records(path, kind, text_unit), chunk)


def chunked(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Items in lists of ``size`` (the last one shorter).

    >>> [len(c) for c in chunked([Item("a", {})] * 5, 2)]
    [2, 2, 1]
    """
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def read_items(path: Path, kind: Kind, text_unit: str = "line") -> Iterator[Item]:
    """Every record of ``path`` in order."""
    for piece in read_pieces(path, kind, text_unit):
        yield from piece_items(piece)


def _records(path: Path, kind: Kind, text_unit: str) -> Iterator[Item]:
    if kind == "parquet":
        return _parquet(path)
    if kind == "csv":
        return _csv(path)
    if kind == "hf":
        return _hf(path)
    if kind == "text":
        return _text_per_file(path)
    raise ValueError(f"unknown input kind {kind!r}; choose one of {', '.join(KINDS)}")


def _line_blocks(path: Path, kind: str, block_bytes: int) -> Iterator[LineBlock]:
    """Blocks of whole lines: a block read short of a line's end is completed to it, so a
    line longer than a block makes one block of its own."""
    first_line = 1
    with open_binary(path) as raw:
        handle = io.BufferedReader(raw)  # type: ignore[arg-type]  # readline for zstd too
        while data := handle.read(block_bytes):
            if not data.endswith(b"\n"):
                data += handle.readline()
            yield LineBlock(kind, path.name, first_line, data)
            first_line += data.count(b"\n")


def _jsonl_item(raw: bytes, source: str) -> Item:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Item(source, None, f"invalid UTF-8 at byte {exc.start}", _show(raw))
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Item(source, None, f"not JSON: {exc.msg} (column {exc.colno})", line.rstrip("\n"))
    if isinstance(record, dict):
        return Item(source, record)
    return Item(source, None, "not a JSON object", line.rstrip("\n"))


def _text_item(raw: bytes, source: str) -> Item:
    text = raw.rstrip(b"\r\n")
    try:
        return Item(source, {"text": text.decode("utf-8")})
    except UnicodeDecodeError as exc:
        return Item(source, None, f"invalid UTF-8 at byte {exc.start}", _show(text))


def _show(raw: bytes) -> str:
    """Undecodable bytes kept visible (and valid JSON) in the rejects file."""
    return raw.decode("utf-8", "backslashreplace").rstrip("\n")


def _parquet(path: Path) -> Iterator[Item]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            yield Item(f"{path.name}:row {number}", row)


def _csv(path: Path) -> Iterator[Item]:
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), 1):
            source = f"{path.name}:row {number}"
            values = [v for v in row.values() if isinstance(v, str)]
            if any(_has_surrogates(v) for v in values):
                shown = json.dumps(row, ensure_ascii=True, default=str)
                yield Item(source, None, "invalid UTF-8", shown)
            else:
                yield Item(source, dict(row))


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def _hf(path: Path) -> Iterator[Item]:
    from datasets import load_from_disk

    dataset = load_from_disk(str(path))
    if hasattr(dataset, "keys"):  # a DatasetDict: its splits one after another
        raise ValueError(f"{path} holds several splits ({', '.join(dataset)}): pass one split")
    number = 0
    for batch in dataset.iter(batch_size=1024):
        columns = list(batch)
        for values in zip(*(batch[c] for c in columns), strict=True):
            number += 1
            yield Item(f"{path.name}:row {number}", dict(zip(columns, values, strict=True)))


def _text_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.txt")) if path.is_dir() else [path]


def _text_per_file(path: Path) -> Iterator[Item]:
    for file in _text_files(path):
        raw = file.read_bytes()
        try:
            yield Item(file.name, {"text": raw.decode("utf-8")})
        except UnicodeDecodeError as exc:
            yield Item(file.name, None, f"invalid UTF-8 at byte {exc.start}", _show(raw))


class AtomicOutputs:
    """Temporary files for every output, renamed into place together at ``commit``; on any
    error or Ctrl-C ``discard`` removes them and no partial output is left."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def temp_for(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(handle)
        temp = Path(name)
        self._pending.append((temp, target))
        return temp

    def commit(self) -> None:
        for temp, target in self._pending:
            if temp.is_dir() and target.exists():
                import shutil

                shutil.rmtree(target)
            os.replace(temp, target)
        self._pending.clear()

    def discard(self) -> None:
        import shutil

        for temp, _ in self._pending:
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)
        self._pending.clear()


def jsonl_line(record: dict[str, Any]) -> bytes:
    """One JSONL line in UTF-8. JSON allows a lone surrogate (``"\\ud800"``), which UTF-8
    cannot hold: such a record is written with escapes, so nothing is lost.

    >>> jsonl_line({"a": "ё"}).decode(), jsonl_line({"a": "\\ud800"})
    ('{"a": "ё"}\\n', b'{"a": "\\\\ud800"}\\n')
    """
    try:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(record) + "\n").encode("ascii")


def render_records(kind: Kind, records: list[dict[str, Any]]) -> bytes | list[dict[str, Any]]:
    """Kept records as a writer of ``kind`` takes them: the bytes to append for JSONL and
    text (rendered by the worker that judged them), else the records.

    >>> render_records("text", [{"text": "а\\nб"}]).decode()
    'а б\\n'
    """
    if kind == "jsonl":
        return b"".join(map(jsonl_line, records))
    if kind == "text":
        return b"".join(
            (str(r.get("text", "")).replace("\n", " ") + "\n").encode("utf-8", "backslashreplace")
            for r in records
        )
    return records


class RecordWriter:
    """Writes kept records in an input's format (JSONL keeps its compression)."""

    def __init__(
        self,
        target: Path,
        kind: Kind,
        outputs: AtomicOutputs,
        fieldnames: list[str] | None = None,
    ) -> None:
        self.kind = kind
        self.target = target
        self.temp = outputs.temp_for(target)
        self.count = 0
        self._fieldnames = fieldnames
        self._rows: list[dict[str, Any]] = []
        self._parquet: Any = None
        self._csv: Any = None
        self._handle: Any = None
        if kind == "jsonl":
            self._handle = _compressed_writer(self.temp, target)
        elif kind == "text":
            self._handle = self.temp.open("wb")
        elif kind == "csv":
            self._handle = self.temp.open("w", encoding="utf-8", newline="")

    def write(self, rendered: bytes | list[dict[str, Any]], count: int) -> None:
        """Append ``count`` records, as ``render_records`` gave them."""
        self.count += count
        if isinstance(rendered, bytes):
            self._handle.write(rendered)
            return
        for record in rendered:
            self._write_record(record)

    def _write_record(self, record: dict[str, Any]) -> None:
        if self.kind == "csv":
            if self._csv is None:
                names = list(self._fieldnames or record)
                names += [k for k in record if k not in names]
                self._csv = csv.DictWriter(self._handle, fieldnames=names, extrasaction="ignore")
                self._csv.writeheader()
            self._csv.writerow({k: _cell(v) for k, v in record.items()})
        else:  # parquet and datasets: in batches
            if isinstance(record.get("langlock"), dict):
                # Findings are keyed by field paths that differ between records: one JSON
                # column keeps the Arrow schema the same for every batch.
                record = {**record, "langlock": json.dumps(record["langlock"], ensure_ascii=False)}
            self._rows.append(record)
            if len(self._rows) >= 2048:
                self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self._rows)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._parquet_path(), table.schema)
        self._parquet.write_table(table.cast(self._parquet.schema))
        self._rows.clear()

    def _parquet_path(self) -> Path:
        return self.temp if self.kind == "parquet" else self.temp.with_suffix(".parquet-part")

    def close(self) -> None:
        if self.kind in ("parquet", "hf"):
            self._flush()
            if self._parquet is not None:
                self._parquet.close()
            if self.kind == "hf":
                self._save_dataset()
        elif self._handle is not None:
            self._handle.close()

    def _save_dataset(self) -> None:
        """A ``datasets`` folder, as the input was (built from the streamed Parquet part)."""
        import shutil

        from datasets import Dataset

        part = self._parquet_path()
        self.temp.unlink(missing_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=self.temp.parent, prefix=".langlock-hf-"))
        try:
            if part.exists():  # memory-mapped Arrow in our own scratch folder, not ~/.cache
                dataset = Dataset.from_parquet(str(part), cache_dir=str(scratch))
            else:
                dataset = Dataset.from_list([])
            dataset.save_to_disk(str(self.temp))
        finally:
            part.unlink(missing_ok=True)
            shutil.rmtree(scratch, ignore_errors=True)


def _compressed_writer(temp: Path, target: Path) -> IO[bytes]:
    """A writer compressed like the target's name says (the temp file has no suffix)."""
    suffix = target.suffix.lower()
    if suffix == ".gz":
        # mtime=0: re-running gives byte-identical output.
        return gzip.GzipFile(filename="", mode="wb", fileobj=temp.open("wb"), mtime=0)  # type: ignore[return-value]
    if suffix == ".zst":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(temp.open("wb"), closefd=True)  # type: ignore[return-value]
    return temp.open("wb")


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


class JsonlWriter:
    """Rejects and other side files: plain JSONL, atomically."""

    def __init__(self, target: Path, outputs: AtomicOutputs) -> None:
        self.count = 0
        self._handle = outputs.temp_for(target).open("wb")

    def write(self, lines: bytes, count: int) -> None:
        """Append ``count`` lines rendered by ``jsonl_line``."""
        self.count += count
        self._handle.write(lines)

    def close(self) -> None:
        self._handle.close()
