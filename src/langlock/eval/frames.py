"""The target-language frame: a system prompt, example exchanges, negative instructions and
a reminder after the question, per target language (``data/frames/<lang>.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

Message = dict[str, str]


@dataclass(frozen=True)
class Frame:
    system: str
    negative: str
    reminder: str
    examples: tuple[tuple[str, str], ...]


@cache
def load_frame(lang: str) -> Frame:
    """The frame for a target language.

    >>> load_frame("ru").reminder
    '(Ответь по-русски.)'
    """
    file = resources.files("langlock") / "data" / "frames" / f"{lang}.toml"
    if not file.is_file():
        raise ValueError(f"no target-language frame for {lang!r} (data/frames/{lang}.toml)")
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    examples = tuple((e["user"].strip(), e["assistant"].strip()) for e in data.get("examples", []))
    return Frame(
        data["system"].strip(), data["negative"].strip(), data["reminder"].strip(), examples
    )


def messages_for(question: str, frame: Frame | None = None) -> list[Message]:
    """Chat messages for a question, framed or not.

    >>> [m["role"] for m in messages_for("Привет")]
    ['user']
    >>> framed = messages_for("Привет", load_frame("ru"))
    >>> [m["role"] for m in framed][:2], framed[-1]["content"]
    (['system', 'user'], 'Привет\\n\\n(Ответь по-русски.)')
    """
    if frame is None:
        return [{"role": "user", "content": question}]
    messages: list[Message] = [{"role": "system", "content": f"{frame.system}\n{frame.negative}"}]
    for user, assistant in frame.examples:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    messages.append({"role": "user", "content": f"{question}\n\n{frame.reminder}"})
    return messages
