"""Writers for cleaned corpora: kept records in the input's kind (JSONL keeps its
compression), rejects as plain JSONL.

Each writes to a temporary path of a ``langlock.io.AtomicFiles``, which renames every output
into place only when the whole run succeeded.
"""

from __future__ import annotations

import csv
import gzip
import json
import tempfile
from pathlib import Path
from typing import IO, Any

from langlock.clean.readers import CorpusKind
from langlock.io import AtomicFiles, jsonl_line


def render_records(kind: CorpusKind, records: list[dict[str, Any]]) -> bytes | list[dict[str, Any]]:
    """Kept records as a writer of ``kind`` takes them: the bytes to append for JSONL and
    text (rendered by the worker that judged them), else the records.

    >>> render_records(CorpusKind.text, [{"text": "а\\nб"}]).decode()
    'а б\\n'
    """
    if kind == CorpusKind.jsonl:
        return b"".join(map(jsonl_line, records))
    if kind == CorpusKind.text:
        return b"".join(
            (str(r.get("text", "")).replace("\n", " ") + "\n").encode("utf-8", "backslashreplace")
            for r in records
        )
    return records


class RecordWriter:
    """Writes kept records in an input's format (JSONL keeps its compression)."""

    def __init__(
        self,
        *,
        target: Path,
        kind: CorpusKind,
        outputs: AtomicFiles,
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
        if kind == CorpusKind.jsonl:
            self._handle = _compressed_writer(self.temp, target)
        elif kind == CorpusKind.text:
            self._handle = self.temp.open("wb")
        elif kind == CorpusKind.csv:
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
        if self.kind == CorpusKind.csv:
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
        if self.kind == CorpusKind.parquet:
            return self.temp
        return self.temp.with_suffix(".parquet-part")

    def close(self) -> None:
        if self.kind in (CorpusKind.parquet, CorpusKind.hf):
            self._flush()
            if self._parquet is not None:
                self._parquet.close()
            if self.kind == CorpusKind.hf:
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

    def __init__(self, target: Path, outputs: AtomicFiles) -> None:
        self.count = 0
        self._handle = outputs.temp_for(target).open("wb")

    def write(self, lines: bytes, count: int) -> None:
        """Append ``count`` lines rendered by ``jsonl_line``."""
        self.count += count
        self._handle.write(lines)

    def close(self) -> None:
        self._handle.close()
