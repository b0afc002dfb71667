"""On-disk cache for token tables and compiled masks, so a lock is ready in well under a second.

Tables are keyed by their source file (path, size, modification time): reading a GGUF's
vocabulary or walking llama.cpp's takes about a second. Masks are keyed by the table's
content hash and the script rule, so any tokenizer with the same vocabulary shares them.
Files are ``.npz`` (no pickle), written to a temporary name and renamed; an unreadable or
stale file is ignored and rebuilt.

The directory is ``$LANGLOCK_CACHE_DIR``, else ``$XDG_CACHE_HOME/langlock``, else
``~/.cache/langlock``; ``LANGLOCK_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langlock.decoding.token_bytes import TokenTable
from langlock.io import atomic_write

log = logging.getLogger(__name__)

#: Bump when the table or mask format, or the meaning of a mask, changes.
FORMAT_VERSION = 5


def cache_dir() -> Path | None:
    """Where cached tables and masks live, or None when caching is off."""
    configured = os.environ.get("LANGLOCK_CACHE_DIR")
    if configured is not None:
        return None if configured.lower() in ("off", "0", "") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "langlock"


def digest(*parts: Any) -> str:
    """A short stable hash of JSON-able parts.

    >>> digest("a", 1) == digest("a", 1) != digest("a", 2)
    True
    """
    text = json.dumps([FORMAT_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def table_fingerprint(table: TokenTable) -> str:
    """A hash of everything a mask depends on in a table: its bytes and its special ids."""
    h = hashlib.sha256(f"{table.kind}|{table.add_space_prefix}|".encode())
    h.update(",".join(map(str, sorted(table.special))).encode())
    h.update(array("I", map(len, table.pieces)).tobytes())
    h.update(b"".join(table.pieces))
    return h.hexdigest()[:24]


def file_key(source: str | Path) -> str | None:
    """A cache key for a file's current version (path, size, modification time), or None."""
    path = Path(source)
    if not path.is_file():
        return None
    stat = path.stat()
    return digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def cached_table(key: str | None, build: Callable[[], TokenTable]) -> TokenTable:
    """The table ``build`` makes, loaded from the cache when one is stored under ``key``."""
    folder = cache_dir()
    if folder is None or key is None:
        return build()
    file = folder / "tables" / f"{key}.npz"
    arrays = _load(file)
    if arrays is not None:
        try:
            return _table_from_arrays(arrays)
        except (KeyError, ValueError) as exc:
            log.warning("langlock: ignoring a damaged cached table %s (%s)", file, exc)
    table = build()
    _save(file, _table_arrays(table))
    return table


def load_arrays(kind: str, key: str) -> dict[str, Any] | None:
    """Arrays saved under ``kind``/``key``, or None when absent, unreadable or caching is off."""
    folder = cache_dir()
    return None if folder is None else _load(folder / kind / f"{key}.npz")


def save_arrays(kind: str, key: str, arrays: dict[str, Any]) -> None:
    """Save arrays under ``kind``/``key`` (atomically; failures only warn)."""
    folder = cache_dir()
    if folder is not None:
        _save(folder / kind / f"{key}.npz", arrays)


def _table_arrays(table: TokenTable) -> dict[str, Any]:
    import numpy as np

    lengths = np.fromiter((len(p) for p in table.pieces), dtype=np.int64, count=len(table))
    return {
        "data": np.frombuffer(b"".join(table.pieces), dtype=np.uint8),
        "lengths": lengths,
        "special": np.fromiter(sorted(table.special), dtype=np.int64),
        "meta": np.array(json.dumps({"kind": table.kind, "prefix": table.add_space_prefix})),
    }


def _table_from_arrays(arrays: dict[str, Any]) -> TokenTable:
    import numpy as np

    data = arrays["data"].tobytes()
    ends = np.cumsum(arrays["lengths"]).tolist()
    starts = [0, *ends[:-1]]
    if ends and ends[-1] != len(data):
        raise ValueError("piece lengths do not add up to the data")
    meta = json.loads(str(arrays["meta"]))
    pieces = tuple(data[s:e] for s, e in zip(starts, ends, strict=True))
    return TokenTable(
        pieces=pieces,
        special=frozenset(arrays["special"].tolist()),
        kind=meta["kind"],
        add_space_prefix=meta["prefix"],
    )


def _load(file: Path) -> dict[str, Any] | None:
    import numpy as np

    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError) as exc:  # truncated or foreign: rebuild it
        log.warning("langlock: ignoring an unreadable cache file %s (%s)", file, exc)
        return None


def _save(file: Path, arrays: dict[str, Any]) -> None:
    import numpy as np

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(file) as out:
            np.savez(out, **arrays)
    except OSError as exc:  # a read-only home must not stop generation
        log.warning("langlock: could not write the cache file %s (%s)", file, exc)
