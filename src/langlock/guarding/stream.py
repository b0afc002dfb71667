"""Checking an answer while it streams: text is released to the client only once checked.

``buffer`` holds each sentence (up to ``.!?…`` and a space, or a line end) until the text
through it is checked: a client never sees an unchecked sentence, at the cost of a
sentence of latency. ``cut`` releases word by word and stops at the first major finding:
less latency, but a violation judged on a whole line (an English sentence is
``wrong_language`` only once enough of it is seen) may have begun to reach the client.

Each check looks at a window (the last few lines before the unreleased text, and that
text), not the whole answer, so a long answer costs the same per sentence.

``StreamedAnswers`` is how the guard's plan judges such streams: a cut one is continued from
what was sent, a finished one is final.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import regex

from langlock.guarding.core import Answers, Attempt, Call, GuardConfig, GuardResult, Verdict
from langlock.guarding.frames import Frame, Message
from langlock.policy import Policy
from langlock.text.check import check
from langlock.text.findings import Finding, Report


class StreamMode(StrEnum):
    """How a stream's text is held until checked (see the module's docstring)."""

    buffer = "buffer"
    cut = "cut"


_SENTENCE_END = regex.compile(r"(?:[.!?…]+[\s»\")]|\n)")
_WORD_END = regex.compile(r"\s")
_FENCE = regex.compile(r"^[ \t]*```", regex.MULTILINE)
#: Lines of released text the window keeps for context (a loop needs three to show).
_CONTEXT_LINES = 4


@dataclass
class StreamCheck:
    """Feed chunks with ``push``; each call returns the text that may now be released, and
    a blocking finding when one appeared (then nothing more is released).

    >>> s = StreamCheck(Policy.from_options(), "buffer")
    >>> s.push("Привет, как")
    ''
    >>> s.push(" дела? Это важный mile")
    'Привет, как дела? '
    >>> s.push("stone проекта. Ещё")
    ''
    >>> s.stopped.kind, s.stopped.text
    ('foreign_word', 'milestone')
    """

    policy: Policy
    mode: StreamMode = StreamMode.buffer
    prompt: str | None = None
    #: Apply certain fixes (look-alike letters, invisible characters, mojibake) to held
    #: text instead of stopping at them.
    repair: bool = False
    text: str = ""
    released: int = 0
    stopped: Finding | None = None
    #: Offsets (into ``text``) where each accepted window was checked; for tests and logs.
    checks: list[int] = field(default_factory=list)
    #: Certain fixes applied to held text (``repair``).
    fixes: list[Finding] = field(default_factory=list)

    def push(self, chunk: str) -> str:
        if self.stopped is not None:
            return ""
        self.text += chunk
        boundary = self._boundary()
        return self._release(boundary) if boundary > self.released else ""

    def accept(self, chunk: str) -> str:
        """Take a chunk unchecked and release it at once (an annotating stream: the whole
        answer is judged at the end)."""
        self.text += chunk
        self.released = len(self.text)
        return chunk

    def finish(self) -> str:
        """The stream ended: check and release whatever is held."""
        if self.stopped is not None:
            return ""
        return self._release(len(self.text)) if len(self.text) > self.released else ""

    @property
    def held(self) -> str:
        """Received but not released (a cut discards it)."""
        return self.text[self.released :]

    def resume(self) -> None:
        """After a cut: drop the held text and accept a continuation of what was released."""
        self.text = self.text[: self.released]
        self.stopped = None

    def _boundary(self, stop: int | None = None) -> int:
        """The last sentence (buffer) or word (cut) end after what is released, before
        ``stop``; what is released when there is none."""
        pattern = _SENTENCE_END if self.mode == "buffer" else _WORD_END
        ends = [m.end() for m in pattern.finditer(self.text, self.released, stop)]
        return ends[-1] if ends else self.released

    def _release(self, boundary: int) -> str:
        start = self._window_start()
        for _ in range(3):  # a fix can reveal another finding; three rounds at most
            report = check(self.text[start:boundary], prompt=self.prompt, policy=self.policy)
            self.checks.append(boundary)
            blocking = [f for f in report.findings if f.major and start + f.end > self.released]
            fixable = all(f.fix is not None and start + f.start >= self.released for f in blocking)
            if not (blocking and self.repair and fixable):
                break
            boundary += self._fix(blocking, start)
        if blocking:
            first = min(blocking, key=lambda f: f.start)
            self.stopped = replace(
                first,
                start=first.start + start,
                end=first.end + start,
                line=first.line + self.text.count("\n", 0, start),
            )
            cut = self._boundary(stop=self.stopped.start)  # the offending sentence is held
            out, self.released = self.text[self.released : cut], cut
            return out
        out, self.released = self.text[self.released : boundary], boundary
        return out

    def _fix(self, findings: list[Finding], start: int) -> int:
        """Apply the findings' fixes (offsets relative to ``start``); return the change in
        length."""
        delta = 0
        for f in sorted(findings, key=lambda f: f.start, reverse=True):
            if any(f.start < g.end and g.start < f.end for g in findings if g is not f):
                continue  # overlapping spans: fix the other one, re-check, then this
            assert f.fix is not None
            a, b = start + f.start, start + f.end
            self.text = self.text[:a] + f.fix + self.text[b:]
            delta += len(f.fix) - (b - a)
            self.fixes.append(f)
        return delta

    def _window_start(self) -> int:
        """Where the checked window begins: a few lines before the held text, and never
        inside a fenced code block (its fence must be in view, or code reads as prose)."""
        start = self.released
        for _ in range(_CONTEXT_LINES):
            newline = self.text.rfind("\n", 0, max(start - 1, 0))
            if newline < 0:
                return 0
            start = newline + 1
        fences = [m.start() for m in _FENCE.finditer(self.text, 0, start)]
        return fences[-1] if len(fences) % 2 else start


@dataclass(frozen=True)
class Streamed:
    """What one upstream stream left: all the text the client has of the answer (across
    continuations), and the finding the stream was cut at (None: it ran to its end)."""

    text: str
    cut: Finding | None = None


class StreamedAnswers(Answers):
    """How ``plan`` judges streams (replies are ``Streamed``): their text reaches the client
    as it is written and cannot be taken back, so a cut stream is continued from what was
    sent, told what went wrong, and a finished one is final, judged on all that was sent."""

    def __init__(self, config: GuardConfig, prompt: str) -> None:
        super().__init__(config, prompt)
        self.sent = ""
        #: The check of the finished answer.
        self.final: Report | None = None

    def judge(self, purpose: str, reply: Streamed) -> Report:  # type: ignore[override]
        self.sent = reply.text
        if reply.cut is not None:
            cut = Attempt(
                purpose="stream-cut", text="", ok=False, findings=(reply.cut,), seconds=0.0
            )
            self.attempts.append(cut)
            policy = self.config.policy
            return Report(
                text=reply.text, lang=policy.lang, preset=policy.preset.name, findings=[reply.cut]
            )
        self.final = self.check(reply.text)
        whole = Attempt(
            purpose="stream",
            text=reply.text,
            ok=self.final.ok,
            findings=tuple(self.final.findings),
            seconds=0.0,
        )
        self.attempts.append(whole)
        return self.final

    def settled(self, report: Report, verdict: Verdict) -> Verdict | None:
        """A finished stream is final: ``verdict`` when it passed, else ``failed``."""
        if self.final is None:
            return None
        return verdict if report.ok else "failed"

    def repair(
        self, report: Report, frame: Frame, options: dict[str, Any]
    ) -> Generator[Call, Any, Report]:
        """Nothing to do: certain fixes were made while the text streamed
        (``StreamCheck(repair=True)``), and sent text cannot be rewritten."""
        yield from ()
        return report

    def retry(self, messages: list[Message], options: dict[str, Any], frame: Frame) -> Call:
        """Go on from the sent text (a chat is asked to continue it)."""
        if self.sent:
            ask = frame.continuation.format(answer=self.sent)
            messages = [*messages, {"role": "user", "content": ask}]
        return Call(messages, options, "continue", continues=self.sent)

    def result(self, verdict: Verdict) -> GuardResult:
        """The sent text, with one record per stream (a cut one carries its finding)."""
        report = self.final or self.check(self.sent)
        return GuardResult(
            text=self.sent,
            verdict=verdict,
            attempts=tuple(self.attempts),
            findings=tuple(report.findings),
        )
