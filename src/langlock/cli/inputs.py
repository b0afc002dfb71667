"""Input records for check and fix: plain files and JSONL lines, with errors that say where."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from langlock.io import BadLine, json_type, parse_object_line, strip_bom, visible

DEFAULT_MAX_BYTES = 10_000_000
_CHUNK = 1 << 20


# -- records ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fields:
    """JSONL field names."""

    text: str = "text"
    prompt: str = "prompt"
    id: str = "id"


@dataclass(slots=True, kw_only=True)
class TextRecord:
    """One text to check: a whole plain file or one JSONL object."""

    id: Any
    text: str
    prompt: str | None
    where: str  # "answers.jsonl:12" or "answer.txt", for messages
    obj: dict[str, Any] | None = None  # the JSONL object (fix writes it back)
    #: The record's bytes as read (a BOM, the line's own ending): ``fix`` writes an
    #: unchanged record back byte for byte, and keeps both around a changed one.
    raw: bytes | None = None


@dataclass(slots=True)
class InputError:
    """A file or line that could not become a record; ``raw`` is kept for ``fix``."""

    id: Any
    message: str
    raw: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "error": self.message}


#: What reading gives for each file or line.
InputItem = TextRecord | InputError


def record_label(record: TextRecord) -> str:
    """Where a record came from, with its id when that says more.

    >>> record_label(TextRecord(id=7, text="", prompt=None, where="a.jsonl:3"))
    'a.jsonl:3 (id 7)'
    >>> record_label(TextRecord(id="a.txt", text="", prompt=None, where="a.txt"))
    'a.txt'
    """
    if record.id == record.where:
        return visible(record.where)
    return f"{visible(record.where)} (id {visible(str(record.id))})"


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def is_jsonl(path: str, force: bool) -> bool:
    """JSONL when forced or when the name ends in ``.jsonl``.

    >>> is_jsonl("a.JSONL", False), is_jsonl("a.txt", False), is_jsonl("-", True)
    (True, False, True)
    """
    return force or path.lower().endswith(".jsonl")


@contextmanager
def _open_binary(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        if sys.stdin is None or sys.stdin.closed:
            raise OSError("stdin is closed")
        yield sys.stdin.buffer
    else:
        with open(path, "rb") as stream:
            yield stream


def iter_items(
    paths: Iterable[str],
    *,
    jsonl: bool,
    fields: Fields,
    prompt: str | None,
    max_bytes: int,
    spill: Callable[[bytes], None] | None = None,
) -> Iterator[InputItem]:
    """Records and input errors from every path, in order, streaming JSONL line by line.

    ``spill`` receives the bytes of oversized records as they are skipped (``fix`` copies
    them through unchanged).
    """
    for path in paths:
        name = display_name(path)
        try:
            with _open_binary(path) as stream:
                if is_jsonl(path, jsonl):
                    yield from iter_jsonl(stream, name, fields, prompt, max_bytes, spill)
                else:
                    yield read_plain(stream, name, prompt, max_bytes, spill)
        except OSError as exc:
            yield InputError(name, f"{name}: cannot read: {exc.strerror or exc}")


def read_plain(
    stream: BinaryIO,
    name: str,
    prompt: str | None,
    max_bytes: int,
    spill: Callable[[bytes], None] | None = None,
) -> InputItem:
    """A whole plain-text file as one record (an empty file is an empty, clean record)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        size, _ = _drain(stream, spill, data, to_eof=True)
        return InputError(name, f"{name}: {size} bytes is over --max-bytes {max_bytes}")
    try:
        text = strip_bom(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(name, f"{name}: invalid UTF-8 at byte {exc.start} ({exc.reason})", data)
    return TextRecord(id=name, text=text, prompt=prompt, where=name, raw=data)


def _drain(
    stream: BinaryIO, spill: Callable[[bytes], None] | None, head: bytes, to_eof: bool = False
) -> tuple[int, bytes]:
    """Skip the rest of an oversized record: to EOF, or to the end of the line.

    Returns the record's size in bytes and its last chunk; every chunk, ``head`` first,
    goes to ``spill`` when given.
    """
    size, chunk = 0, head
    while chunk:
        size += len(chunk)
        if spill:
            spill(chunk)
        if not to_eof and chunk.endswith(b"\n"):
            break
        last = chunk
        chunk = stream.read(_CHUNK) if to_eof else stream.readline(_CHUNK)
        if not chunk:
            return size, last
    return size, chunk


def iter_jsonl(
    stream: BinaryIO,
    name: str,
    fields: Fields,
    prompt: str | None,
    max_bytes: int,
    spill: Callable[[bytes], None] | None = None,
) -> Iterator[InputItem]:
    """One record or input error per non-blank line; lines over ``max_bytes`` are errors."""
    number = 0
    while raw := stream.readline(max_bytes + 1):
        number += 1
        where = f"{name}:{number}"
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            size, last = _drain(stream, spill, raw)
            if spill and not last.endswith(b"\n"):
                spill(b"\n")
            yield InputError(None, f"{where}: line of {size} bytes is over --max-bytes {max_bytes}")
            continue
        line = strip_bom(raw) if number == 1 else raw
        if not line.strip():  # a blank line is no record; fix copies it through as it is
            if spill:
                spill(raw)
            continue
        item = parse_jsonl_line(line, where, fields, prompt)
        if isinstance(item, TextRecord) or item.raw is not None:
            item.raw = raw
        yield item


def parse_jsonl_line(raw: bytes, where: str, fields: Fields, prompt: str | None) -> InputItem:
    """Turn one JSONL line into a record, or an error naming the file and line.

    >>> parse_jsonl_line(b'{"id": 7, "text": "hi"}', "a.jsonl:1", Fields(), None).id
    7
    >>> parse_jsonl_line(b'{"text": 5}', "a.jsonl:2", Fields(), None).message
    'a.jsonl:2: field "text" is not a string (got int)'
    """
    try:
        obj = parse_object_line(raw)
    except RecursionError:
        return InputError(None, f"{where}: malformed JSON: nested too deeply", raw)
    if isinstance(obj, BadLine):
        return InputError(None, f"{where}: {_bad_line_message(obj)}", raw)
    record_id = obj.get(fields.id, where)
    text = obj.get(fields.text)
    if fields.text not in obj:
        return InputError(record_id, f'{where}: missing field "{fields.text}"', raw)
    if not isinstance(text, str):
        message = f'{where}: field "{fields.text}" is not a string (got {json_type(text)})'
        return InputError(record_id, message, raw)
    record_prompt = obj.get(fields.prompt, prompt)
    if record_prompt is not None and not isinstance(record_prompt, str):
        got = json_type(record_prompt)
        message = f'{where}: field "{fields.prompt}" is not a string (got {got})'
        return InputError(record_id, message, raw)
    return TextRecord(id=record_id, text=text, prompt=record_prompt, where=where, obj=obj)


def _bad_line_message(bad: BadLine) -> str:
    """Why a line is not a record, in check's and fix's words.

    >>> _bad_line_message(parse_object_line(b"[1]"))
    'expected a JSON object, got array'
    >>> _bad_line_message(parse_object_line(b"{"))
    'malformed JSON: Expecting property name enclosed in double quotes (column 2)'
    """
    if isinstance(bad.error, UnicodeDecodeError):
        return f"invalid UTF-8 at byte {bad.error.start} ({bad.error.reason})"
    if isinstance(bad.error, json.JSONDecodeError):
        return f"malformed JSON: {bad.error.msg} (column {bad.error.colno})"
    return f"expected a JSON object, got {json_type(bad.value)}"
