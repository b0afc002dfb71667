"""The target-language frame: a system prompt, example exchanges, negative instructions and
an optional reminder after the question, per target language (``data/frames/<lang>.toml``).

The built-in frames have no reminder: small models echo it back and then loop on it
(«(Ответь по-русски.)» ten times over). On 45 built-in prompts with the bundled Gemma under
frame+lock, dropping it took looping answers from 12 to 7 (no repeat penalty) and from 2
to 1 (repeat penalty 1.1).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
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
    #: The guard's words: after a failed answer (``{problems}``), to rewrite one sentence
    #: (``{sentence}``), to continue a cut stream (``{answer}``); and each finding kind
    #: in words.
    correction: str = ""
    rewrite: str = ""
    continuation: str = ""
    problems: tuple[tuple[str, str], ...] = ()

    def framing(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        """What shapes a framed request (the guard's words aside)."""
        return self.system, self.negative, self.reminder, self.examples

    def problem(self, kind: str) -> str:
        return dict(self.problems).get(kind, kind)


@cache
def load_frame(lang: str) -> Frame:
    """The frame for a target language.

    >>> load_frame("ru").system.startswith("Ты — полезный ассистент")
    True
    """
    file = resources.files("langlock") / "data" / "frames" / f"{lang}.toml"
    if not file.is_file():
        raise ValueError(f"no target-language frame for {lang!r} (data/frames/{lang}.toml)")
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    examples = tuple((e["user"].strip(), e["assistant"].strip()) for e in data.get("examples", []))
    return Frame(
        system=data["system"].strip(),
        negative=data["negative"].strip(),
        reminder=data.get("reminder", "").strip(),
        examples=examples,
        correction=data.get("correction", "").strip(),
        rewrite=data.get("rewrite", "").strip(),
        continuation=data.get("continuation", "").strip(),
        problems=tuple(data.get("problems", {}).items()),
    )


def messages_for(question: str, frame: Frame | None = None) -> list[Message]:
    """Chat messages for a question, framed or not.

    >>> [m["role"] for m in messages_for("Привет")]
    ['user']
    >>> framed = messages_for("Привет", load_frame("ru"))
    >>> [m["role"] for m in framed][:2], framed[-1]["content"]
    (['system', 'user'], 'Привет')
    >>> from dataclasses import replace
    >>> messages_for("Привет", replace(load_frame("ru"), reminder="(По-русски.)"))[-1]["content"]
    'Привет\\n\\n(По-русски.)'
    """
    if frame is None:
        return [{"role": "user", "content": question}]
    reminder = f"\n\n{frame.reminder}" if frame.reminder else ""
    return frame_conversation([{"role": "user", "content": question + reminder}], frame)


def frame_conversation(messages: Sequence[Message], frame: Frame) -> list[Message]:
    """The frame around a conversation: its system prompt (before the caller's own) and its
    example exchanges before the first user turn.

    >>> framed = frame_conversation([{"role": "user", "content": "Привет"}], load_frame("ru"))
    >>> [m["role"] for m in framed][:3], framed[-1]["content"]
    (['system', 'user', 'assistant'], 'Привет')
    """
    own = [m for m in messages if m.get("role") == "system"]
    rest = [m for m in messages if m.get("role") != "system"]
    system = "\n".join([frame.system, frame.negative, *(str(m["content"]) for m in own)])
    framed: list[Message] = [{"role": "system", "content": system}]
    for user, assistant in frame.examples:
        framed += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return framed + [dict(m) for m in rest]
