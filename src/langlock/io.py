"""Plumbing every door shares: JSON lines read and written (surrogate-safe), text safe to
print, atomic writes.

Written by hand because the standard library has no atomic file replace and no JSON dump that
survives a lone surrogate (JSON can hold one, UTF-8 cannot). Reading says *why* a line holds
no JSON object in data (``BadLine``), so each command words it its own way.
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
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import regex

_SURROGATE = regex.compile(r"[\ud800-\udfff]")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
UTF8_BOM = b"\xef\xbb\xbf"


# -- reading ---------------------------------------------------------------------------------


def strip_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte order mark.

    >>> strip_bom(b"\\xef\\xbb\\xbf{}"), strip_bom(b"{}")
    (b'{}', b'{}')
    """
    return data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data


class LineProblem(StrEnum):
    """Why a line holds no JSON object."""

    utf8 = "utf8"  # its bytes are not UTF-8
    json = "json"  # its text is not JSON
    not_object = "not_object"  # it is JSON, but not an object


@dataclass(frozen=True, slots=True, kw_only=True)
class BadLine:
    """A line that holds no JSON object, and what was wrong with it."""

    problem: LineProblem
    line: str | None = None  # the decoded text (None when it is not UTF-8)
    error: UnicodeDecodeError | json.JSONDecodeError | None = None
    value: Any = None  # the JSON value it held instead of an object


def parse_object_line(raw: bytes) -> dict[str, Any] | BadLine:
    """The JSON object on one line of UTF-8, or a ``BadLine`` saying why there is none.

    A line nested too deeply raises ``RecursionError``, as ``json.loads`` does.

    >>> parse_object_line(b'{"text": "\\xd1\\x91"}')
    {'text': 'ё'}
    >>> bad = parse_object_line(b"[1]")
    >>> bad.problem, bad.value, json_type(bad.value)
    (<LineProblem.not_object: 'not_object'>, [1], 'array')
    >>> parse_object_line(b"\\xff").error.start
    0
    """
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(problem=LineProblem.utf8, error=exc)
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return BadLine(problem=LineProblem.json, line=line, error=exc)
    if isinstance(value, dict):
        return value
    return BadLine(problem=LineProblem.not_object, line=line, value=value)


def json_type(value: Any) -> str:
    """JSON-ish type name.

    >>> json_type(None), json_type([1]), json_type(2.5)
    ('null', 'array', 'float')
    """
    names = {type(None): "null", list: "array", dict: "object", bool: "bool"}
    return names.get(type(value), type(value).__name__)


# -- writing ---------------------------------------------------------------------------------


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


#: Our temporary names: ``.<target name>.<pid>.<mkstemp's 8 characters>.tmp`` (older
#: versions left no pid: ``.<target name>.<8 characters>.tmp``). The pid tells a live run's
#: file from one a killed run left behind.
_TEMP_TAIL = regex.compile(r"(?:(\d+)\.)?[a-z0-9_]{8}\.(?:tmp|parquet-part)")


def writes_directly(target: Path) -> bool:
    """Whether ``target`` is written in place rather than replaced: an existing file that is
    neither regular nor a folder (``/dev/null``, a device, a FIFO). Renaming over it would
    swap the node for a regular file.

    >>> writes_directly(Path("/dev/null")), writes_directly(Path("/no/such/file"))
    (True, False)
    """
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on this machine)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to someone else
        return True
    return True


def stale_temps(target: Path) -> list[Path]:
    """Temporary files of ours beside ``target`` that no running process is writing: what a
    run killed with ``kill -9`` (or a crash) left behind.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in (".k.jsonl.999999999.abcd1234.tmp", ".k.jsonl.abcd1234.tmp",
    ...              f".k.jsonl.{os.getpid()}.abcd1234.tmp", ".other.abcd1234.tmp"):
    ...     (folder / name).touch()
    >>> sorted(p.name for p in stale_temps(folder / "k.jsonl"))
    ['.k.jsonl.999999999.abcd1234.tmp', '.k.jsonl.abcd1234.tmp']
    """
    prefix = f".{target.name}."
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return []
    stale = []
    for path in siblings:
        tail = path.name[len(prefix) :] if path.name.startswith(prefix) else ""
        match = _TEMP_TAIL.fullmatch(tail)
        if match and not (match.group(1) and _alive(int(match.group(1)))):
            stale.append(path)
    return stale


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class AtomicFiles:
    """Temporary paths beside their targets, renamed into place together at ``commit``; on
    any error or Ctrl-C ``discard`` removes them, so no partial output is ever left.

    A target may be a file or a folder (write the folder at the temporary path). Each gets
    the permissions of :func:`output_mode`, not ``mkstemp``'s private 0600. With
    ``make_folders`` a missing parent folder is created; without, it is an error, as with
    a plain ``open``. A target that is neither a regular file nor a folder (``/dev/null``, a
    FIFO) is its own "temporary path": written in place, never renamed over or removed.
    Reserving a temporary path first removes the stale ones a killed run left beside the
    same target (``stale_temps``).
    """

    def __init__(self, make_folders: bool = False) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self.make_folders = make_folders

    def temp_for(self, target: Path) -> Path:
        if writes_directly(target):
            return target
        if self.make_folders:
            target.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_temps(target):
            _remove(stale)
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
        )
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
            _remove(temp)
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
            if temp != path:  # a device or FIFO written in place has nothing to sync
                os.fsync(out.fileno())
        files.commit()
    except BaseException:
        files.discard()
        raise


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) atomically."""
    with atomic_write(path) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
