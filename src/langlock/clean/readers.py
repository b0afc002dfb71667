"""Streaming readers for corpora: JSONL (also ``.gz``/``.zst``), Parquet, CSV, a ``datasets``
folder saved with ``save_to_disk``, and plain text.

Readers stream (memory stays flat on inputs larger than RAM): line-based files in blocks of
raw lines that workers parse, other kinds as ``CorpusItem``s. A line that is not JSON, not
UTF-8 or not an object becomes a ``CorpusItem`` with an error, never an exception, so the run
accounts for it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import IO, Any

from langlock.io import BadLine, parse_object_line, strip_bom

#: Pieces handed to workers: blocks of about 1 MB of lines, or 256 records (Ray tasks take
#: runs of them).
BLOCK_BYTES = 1 << 20
CHUNK = 256


class CorpusKind(StrEnum):
    """How a corpus is stored: the input kinds, and the choices of ``--output-format``."""

    jsonl = "jsonl"
    parquet = "parquet"
    csv = "csv"
    hf = "hf"  # a ``datasets`` folder (``save_to_disk``)
    text = "text"


class TextUnit(StrEnum):
    """What one record of a text input is (``--text-unit``)."""

    line = "line"
    file = "file"


@dataclass(frozen=True, kw_only=True)
class CorpusItem:
    """One input record, or why one could not be read."""

    source: str
    record: dict[str, Any] | None
    error: str | None = None
    raw: str | None = None


@dataclass(frozen=True, kw_only=True)
class LineBlock:
    """Whole lines of a line-based file (JSONL or text), not yet parsed: what a worker gets,
    so that decoding and parsing happen in the workers, not in the process that reads."""

    kind: CorpusKind  # jsonl or text
    name: str
    first_line: int
    data: bytes

    def items(self) -> Iterator[CorpusItem]:
        """The block's records, numbered by their lines in the file.

        >>> block = LineBlock(kind=CorpusKind.jsonl, name="a.jsonl", first_line=7,
        ...                   data=b'{"text": "x"}\\n\\n[1]\\n')
        >>> [(i.source, i.record, i.error) for i in block.items()]
        [('a.jsonl:7', {'text': 'x'}, None), ('a.jsonl:9', None, 'not a JSON object')]
        """
        lines = self.data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()  # the block ends with a newline
        parse = _jsonl_item if self.kind == CorpusKind.jsonl else _text_item
        for number, raw in enumerate(lines, self.first_line):
            if raw.strip():
                yield parse(raw, f"{self.name}:{number}")

    @property
    def blank_lines(self) -> int:
        """Empty and whitespace-only lines: no record, but counted (``Stats.blank``).

        >>> block = LineBlock(kind=CorpusKind.text, name="a", first_line=1, data=b"x\\n\\n \\t\\n")
        >>> block.blank_lines
        2
        """
        lines = self.data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        return sum(1 for raw in lines if not raw.strip())


#: What engines hand to a worker: a block of raw lines, or records already read.
Piece = LineBlock | list[CorpusItem]


def piece_items(piece: Piece) -> list[CorpusItem]:
    return list(piece.items()) if isinstance(piece, LineBlock) else piece


def input_kind(path: Path) -> CorpusKind:
    """What a path holds, by its name (and, for a folder, its ``datasets`` files).

    >>> [str(input_kind(Path(name))) for name in ("a.jsonl.zst", "b.parquet", "c.txt")]
    ['jsonl', 'parquet', 'text']
    """
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "state.json").exists():
            return CorpusKind.hf
        return CorpusKind.text
    suffixes = [s.lower() for s in path.suffixes] or [""]
    compressed = suffixes[-1] in (".gz", ".zst") and len(suffixes) > 1
    base = suffixes[-2] if compressed else suffixes[-1]
    return {
        ".jsonl": CorpusKind.jsonl,
        ".json": CorpusKind.jsonl,
        ".ndjson": CorpusKind.jsonl,
        ".parquet": CorpusKind.parquet,
        ".csv": CorpusKind.csv,
        ".txt": CorpusKind.text,
    }.get(base, CorpusKind.jsonl)


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
    kind: CorpusKind,
    text_unit: str = TextUnit.line,
    block_bytes: int = BLOCK_BYTES,
    chunk: int = CHUNK,
) -> Iterator[Piece]:
    """The input in pieces, in order: blocks of about ``block_bytes`` of whole lines for
    JSONL and line-based text (parsed later, by the workers), else ``chunk`` records."""
    if kind == CorpusKind.jsonl:
        yield from _line_blocks(path, CorpusKind.jsonl, block_bytes)
    elif kind == CorpusKind.text and text_unit == TextUnit.line:
        for file in _text_files(path):
            yield from _line_blocks(file, CorpusKind.text, block_bytes)
    else:
        yield from chunked(_records(path, kind), chunk)


def chunked(items: Iterable[CorpusItem], size: int) -> Iterator[list[CorpusItem]]:
    """Items in lists of ``size`` (the last one shorter).

    >>> [len(c) for c in chunked([CorpusItem(source="a", record={})] * 5, 2)]
    [2, 2, 1]
    """
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def read_items(
    path: Path, kind: CorpusKind, text_unit: str = TextUnit.line
) -> Iterator[CorpusItem]:
    """Every record of ``path`` in order."""
    for piece in read_pieces(path, kind, text_unit):
        yield from piece_items(piece)


def count_records(source: Path) -> int | None:
    """Lines of an uncompressed text input, for the ETA (a fast pass); None if unknown."""
    if not source.is_file() or source.suffix.lower() not in (".jsonl", ".json", ".ndjson", ".txt"):
        return None
    count = 0
    with source.open("rb") as handle:
        while block := handle.read(1 << 22):
            count += block.count(b"\n")
    return count


def _records(path: Path, kind: CorpusKind) -> Iterator[CorpusItem]:
    if kind == CorpusKind.parquet:
        return _parquet(path)
    if kind == CorpusKind.csv:
        return _csv(path)
    if kind == CorpusKind.hf:
        return _hf(path)
    if kind == CorpusKind.text:
        return _text_per_file(path)
    raise ValueError(f"unknown input kind {kind!r}; choose one of {', '.join(CorpusKind)}")


class TruncatedInput(ValueError):
    """A compressed input that ends early or is corrupt: where, and how much was read."""


def _line_blocks(path: Path, kind: CorpusKind, block_bytes: int) -> Iterator[LineBlock]:
    """Blocks of whole lines: a block read short of a line's end is completed to it, so a
    line longer than a block makes one block of its own. A UTF-8 BOM before the first line
    is not part of it. A compressed file that breaks off raises ``TruncatedInput``."""
    first_line = 1
    read = 0  # bytes of (decompressed) data handed on so far
    with path.open("rb") as file, _decompressed(file, path) as raw:
        handle = io.BufferedReader(raw)  # type: ignore[arg-type]  # readline for zstd too
        while True:
            try:
                data = handle.read(block_bytes)
                if data and not data.endswith(b"\n"):
                    data += handle.readline()
            except (EOFError, OSError, zlib.error) as exc:
                raise _truncated(path, file, first_line - 1, read, exc) from None
            if not data:
                return
            read += len(data)
            if first_line == 1:
                data = strip_bom(data)
            yield LineBlock(kind=kind, name=path.name, first_line=first_line, data=data)
            first_line += data.count(b"\n")


def _decompressed(file: IO[bytes], path: Path) -> IO[bytes]:
    """``file``'s data, decompressed as its suffix says (``.gz``, ``.zst``)."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.GzipFile(fileobj=file, mode="rb")  # type: ignore[return-value]
    if suffix == ".zst":
        return _ZstdReader(file)  # type: ignore[return-value]
    return file


class _ZstdReader(io.RawIOBase):
    """Zstandard frames decompressed one after another; a file that ends inside a frame
    raises ``EOFError`` (zstandard's own stream reader just stops, losing the rest quietly).
    """

    def __init__(self, file: IO[bytes]) -> None:
        import zstandard

        self._file = file
        self._new = zstandard.ZstdDecompressor().decompressobj
        self._frame = self._new()
        self._started = False  # whether the current frame has taken any input
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            data = self._file.read(1 << 16)
            if not data:
                if self._started and not self._frame.eof:
                    raise EOFError("the zstd stream ends inside a frame")
                return 0
            while data:
                if self._frame.eof:  # the next frame of a multi-frame file
                    self._frame, self._started = self._new(), False
                self._started = True
                try:
                    self._out += self._frame.decompress(data)
                except Exception as exc:  # zstandard.ZstdError: corrupt data
                    raise OSError(f"corrupt zstd data: {exc}") from None
                data = self._frame.unused_data if self._frame.eof else b""
        size = min(len(buffer), len(self._out))
        buffer[:size], self._out = self._out[:size], self._out[size:]
        return size


def _truncated(
    path: Path, file: IO[bytes], lines: int, read: int, exc: BaseException
) -> TruncatedInput:
    """Where a compressed input broke off, in words: the file, the byte reached, what was read."""
    try:
        reached = f"byte {file.tell():,} of {path.stat().st_size:,}"
    except (OSError, ValueError):
        reached = "an unknown byte"
    why = str(exc) or type(exc).__name__
    return TruncatedInput(
        f"{path} is truncated or corrupt at {reached} ({why}); {lines:,} lines "
        f"({read:,} bytes) were read before it: nothing was written"
    )


def _jsonl_item(raw: bytes, source: str) -> CorpusItem:
    """One JSONL line as a record, or as an error in clean's words (the rejects' reasons).

    >>> _jsonl_item(b'{"text": 1', "a:1").error
    "not JSON: Expecting ',' delimiter (column 11)"
    """
    parsed = parse_object_line(raw)
    if not isinstance(parsed, BadLine):
        return CorpusItem(source=source, record=parsed)
    line = (parsed.line or "").rstrip("\n")
    if isinstance(parsed.error, UnicodeDecodeError):
        error, shown = f"invalid UTF-8 at byte {parsed.error.start}", _show(raw)
    elif isinstance(parsed.error, json.JSONDecodeError):
        error, shown = f"not JSON: {parsed.error.msg} (column {parsed.error.colno})", line
    else:
        error, shown = "not a JSON object", line
    return CorpusItem(source=source, record=None, error=error, raw=shown)


def _text_item(raw: bytes, source: str) -> CorpusItem:
    text = raw.rstrip(b"\r\n")
    try:
        return CorpusItem(source=source, record={"text": text.decode("utf-8")})
    except UnicodeDecodeError as exc:
        error = f"invalid UTF-8 at byte {exc.start}"
        return CorpusItem(source=source, record=None, error=error, raw=_show(text))


def _show(raw: bytes) -> str:
    """Undecodable bytes kept visible (and valid JSON) in the rejects file."""
    return raw.decode("utf-8", "backslashreplace").rstrip("\n")


def _parquet(path: Path) -> Iterator[CorpusItem]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            yield CorpusItem(source=f"{path.name}:row {number}", record=row)


def _csv(path: Path) -> Iterator[CorpusItem]:
    # utf-8-sig: a BOM (as Excel writes) is not part of the first column's name
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), 1):
            source = f"{path.name}:row {number}"
            values = [v for v in row.values() if isinstance(v, str)]
            if any(_has_surrogates(v) for v in values):
                shown = json.dumps(row, ensure_ascii=True, default=str)
                yield CorpusItem(source=source, record=None, error="invalid UTF-8", raw=shown)
            else:
                yield CorpusItem(source=source, record=dict(row))


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def _hf(path: Path) -> Iterator[CorpusItem]:
    from datasets import load_from_disk

    dataset = load_from_disk(str(path))
    if hasattr(dataset, "keys"):  # a DatasetDict: its splits one after another
        raise ValueError(f"{path} holds several splits ({', '.join(dataset)}): pass one split")
    number = 0
    for batch in dataset.iter(batch_size=1024):
        columns = list(batch)
        for values in zip(*(batch[c] for c in columns), strict=True):
            number += 1
            record = dict(zip(columns, values, strict=True))
            yield CorpusItem(source=f"{path.name}:row {number}", record=record)


def _text_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.txt")) if path.is_dir() else [path]


def _text_per_file(path: Path) -> Iterator[CorpusItem]:
    for file in _text_files(path):
        raw = strip_bom(file.read_bytes())
        try:
            yield CorpusItem(source=file.name, record={"text": raw.decode("utf-8")})
        except UnicodeDecodeError as exc:
            error = f"invalid UTF-8 at byte {exc.start}"
            yield CorpusItem(source=file.name, record=None, error=error, raw=_show(raw))
