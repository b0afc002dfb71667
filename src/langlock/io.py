"""Plumbing every door shares: surrogate-safe JSON lines, text safe to print, atomic writes.

Written by hand because the standard library has no atomic file replace and no JSON dump that
survives a lone surrogate (JSON can hold one, UTF-8 cannot).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import regex

_SURROGATE = regex.compile(r"[\ud800-\udfff]")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def dumps(obj: Any) -> str:
    """Compact UTF-8 JSON; lone surrogates become ``\\udXXX`` escapes so it stays encodable.

    >>> dumps({"t": "я\\ud800"})
    '{"t": "я\\\\ud800"}'
    """
    out = json.dumps(obj, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def jsonl_line(obj: Any) -> bytes:
    """One JSONL line in UTF-8, nothing lost: a lone surrogate is written as an escape.

    >>> jsonl_line({"a": "ё"}).decode(), jsonl_line({"a": "\\ud800"})
    ('{"a": "ё"}\\n', b'{"a": "\\\\ud800"}\\n')
    """
    return (dumps(obj) + "\n").encode("utf-8")


def visible(text: str) -> str:
    """Text safe to print: invisible and control characters become ``⟨U+XXXX⟩``.

    Tabs stay; lone surrogates and other unprintable code points are shown by number.

    >>> visible("при\\u200bвет\\t!")
    'при⟨U+200B⟩вет\\t!'
    """
    return "".join(
        f"⟨U+{ord(ch):04X}⟩" if ch != "\t" and unicodedata.category(ch) in _HIDDEN else ch
        for ch in text
    )


def output_mode(target: Path, folder: bool = False) -> int:
    """The permissions a plain ``open`` (or ``mkdir``) would give ``target``: an existing
    file's own, else the default under the user's umask.

    >>> import os, tempfile
    >>> old = os.umask(0o022)
    >>> oct(output_mode(Path(tempfile.gettempdir(), "no-such-file")))
    '0o644'
    >>> _ = os.umask(old)
    """
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return (0o777 if folder else 0o666) & ~umask


class AtomicFiles:
    """Temporary paths beside their targets, renamed into place together at ``commit``; on
    any error or Ctrl-C ``discard`` removes them, so no partial output is ever left.

    A target may be a file or a folder (write the folder at the temporary path). Each gets
    the permissions of :func:`output_mode`, not ``mkstemp``'s private 0600.
    """

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
            is_folder = temp.is_dir()
            os.chmod(temp, output_mode(target, folder=is_folder))
            if is_folder and target.exists():
                shutil.rmtree(target)
            os.replace(temp, target)
        self._pending.clear()

    def discard(self) -> None:
        for temp, _ in self._pending:
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)
        self._pending.clear()


@contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace ``path`` only when the block ends without error.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_write(target) as out:
    ...     _ = out.write(b"done")
    >>> target.read_bytes()
    b'done'
    """
    files = AtomicFiles()
    temp = files.temp_for(path)
    try:
        with temp.open("wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        files.commit()
    except BaseException:
        files.discard()
        raise


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) atomically."""
    with atomic_write(path) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
