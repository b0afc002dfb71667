"""Record formats of instruction and chat data, and the texts in them that the checker judges.

Each format says which fields are model output (checked) and which are the prompt context
of that output (a user turn: text the answer may legitimately repeat or was asked for).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Field names tried for a single-text record, in order.
TEXT_FIELDS = ("text", "content", "response", "completion", "answer", "output")


class RecordFormat(StrEnum):
    """The record formats of instruction and chat data (``--format``, besides ``auto``)."""

    text = "text"
    alpaca = "alpaca"
    chat = "chat"
    sharegpt = "sharegpt"
    preference = "preference"


#: ``--format``'s default: each record's format is detected (``detect_format``).
AUTO = "auto"
_SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "bing": "assistant",
    "chatgpt": "assistant",
}

#: Where a text is in a record: keys and list indexes, outermost first.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Unit:
    """One text to check: where it is in the record, the text, and its prompt context."""

    path: FieldPath
    text: str
    prompt: str | None = None

    @property
    def field(self) -> str:
        """The path as one string, for stats and reasons.

        >>> Unit(("messages", 3, "content"), "x").field
        'messages[3].content'
        """
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


class FormatError(ValueError):
    """A record that does not have the fields its format needs."""


def detect_format(record: dict[str, Any]) -> RecordFormat:
    """The format a record looks like.

    >>> str(detect_format({"messages": [{"role": "user", "content": "Привет"}]}))
    'chat'
    >>> str(detect_format({"conversations": [{"from": "human", "value": "Привет"}]}))
    'sharegpt'
    >>> str(detect_format({"instruction": "Переведи", "input": "", "output": "Готово"}))
    'alpaca'
    >>> str(detect_format({"prompt": "Вопрос", "chosen": "Да", "rejected": "Yes"}))
    'preference'
    >>> str(detect_format({"text": "Просто текст"}))
    'text'
    """
    if isinstance(record.get("messages"), list):
        return RecordFormat.chat
    if isinstance(record.get("conversations"), list):
        return RecordFormat.sharegpt
    if "chosen" in record and "rejected" in record:
        return RecordFormat.preference
    if "instruction" in record and ("output" in record or "response" in record):
        return RecordFormat.alpaca
    if any(isinstance(record.get(f), str) for f in TEXT_FIELDS):
        return RecordFormat.text
    raise FormatError(f"unknown record format (fields: {', '.join(sorted(record)) or 'none'})")


def units(
    record: dict[str, Any],
    fmt: str,
    roles: Sequence[str] = ("assistant",),
    text_field: str | None = None,
) -> list[Unit]:
    """The texts of ``record`` to check under ``fmt``.

    Chat turns of the given roles are checked, each with the user turn before it as prompt.

    >>> r = {"messages": [{"role": "user", "content": "Вопрос"},
    ...                   {"role": "assistant", "content": "Ответ"}]}
    >>> [(u.field, u.text, u.prompt) for u in units(r, "chat")]
    [('messages[1].content', 'Ответ', 'Вопрос')]
    """
    if fmt == RecordFormat.text:
        name = text_field or next((f for f in TEXT_FIELDS if isinstance(record.get(f), str)), None)
        if name is None or not isinstance(record.get(name), str):
            raise FormatError(f"no text field {text_field or '/'.join(TEXT_FIELDS)!r}")
        return [Unit((name,), record[name])]
    if fmt == RecordFormat.alpaca:
        out = "output" if "output" in record else "response"
        prompt = "\n".join(str(record.get(k) or "") for k in ("instruction", "input")).strip()
        return [Unit((out,), _text(record, out), prompt or None)]
    if fmt in (RecordFormat.chat, RecordFormat.sharegpt):
        return _turns(record, fmt, roles)
    if fmt == RecordFormat.preference:
        prompt = record.get("prompt")
        prompt_text = _last_user(prompt) if isinstance(prompt, list) else prompt
        chosen = record["chosen"]
        if isinstance(chosen, list):  # a conversation: its assistant turns
            context = prompt_text if isinstance(prompt_text, str) else None
            return _turn_units(chosen, ("chosen",), RecordFormat.chat, roles, context)
        return [Unit(("chosen",), _text(record, "chosen"), prompt_text)]
    raise FormatError(f"unknown format {fmt!r}; choose one of {', '.join(RecordFormat)}")


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise FormatError(f"field {name!r} is not text")
    return value


def _turns(record: dict[str, Any], fmt: str, roles: Sequence[str]) -> list[Unit]:
    name = "messages" if fmt == RecordFormat.chat else "conversations"
    return _turn_units(record[name], (name,), fmt, roles, None)


def _turn_units(
    turns: list[Any], base: FieldPath, fmt: str, roles: Sequence[str], prompt: str | None
) -> list[Unit]:
    role_key, text_key = ("role", "content") if fmt == RecordFormat.chat else ("from", "value")
    found = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get(text_key), str):
            raise FormatError(f"turn {i} has no text {text_key!r}")
        role = str(turn.get(role_key, ""))
        role = _SHAREGPT_ROLES.get(role, role) if fmt == RecordFormat.sharegpt else role
        if role in roles:
            found.append(Unit((*base, i, text_key), turn[text_key], prompt))
        if role == "user":
            prompt = turn[text_key]
    return found


def _last_user(turns: list[Any]) -> str | None:
    for turn in reversed(turns):
        if isinstance(turn, dict) and turn.get("role") == "user":
            return str(turn.get("content", ""))
    return None


def with_text(record: dict[str, Any], path: FieldPath, text: str) -> dict[str, Any]:
    """A copy of ``record`` with the text at ``path`` replaced.

    >>> with_text({"m": [{"c": "a"}]}, ("m", 0, "c"), "b")
    {'m': [{'c': 'b'}]}
    """
    out = copy.deepcopy(record)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = text
    return out
