"""Check-and-regenerate around any text generator: frame the request, check the answer, and
on failure regenerate, repair, annotate or block.

The decisions live in one engine-free plan (``plan``), a generator that yields the calls it
wants made and receives their replies; ``Guard`` drives it with a plain function,
``AsyncGuard`` with a coroutine and the proxy with upstream streams (judged by
``langlock.guarding.stream.StreamedAnswers``), so the guards cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import regex

from langlock.guarding.frames import Frame, Message, frame_conversation, load_frame
from langlock.policy import Policy
from langlock.text.check import check
from langlock.text.findings import Finding, Report
from langlock.text.repair import fix


class GuardStrategy(StrEnum):
    """What the guard does with a failing answer."""

    regenerate = "regenerate"
    repair = "repair"
    annotate = "annotate"
    block = "block"


#: The strategies' names, for messages.
_STRATEGY_NAMES = tuple(s.value for s in GuardStrategy)
Verdict = Literal["pass", "repaired", "regenerated", "failed", "blocked"]
#: Why a call is made; ``continue`` goes on from text a stream already sent.
Purpose = Literal["generate", "regenerate", "rewrite", "continue"]
#: Finding kinds a one-sentence rewrite can cure (a loop or a leaked token cannot).
REWRITABLE = frozenset({"foreign_script", "foreign_word", "wrong_language", "translit"})
_SENTENCE = regex.compile(r"[^\n.!?…]*(?:[.!?…]+|(?=\n)|$)")


@dataclass(frozen=True)
class Call:
    """One request the guard wants made: messages and generation options."""

    messages: list[Message]
    options: dict[str, Any]
    purpose: Purpose
    #: What the client already has of this answer (a cut stream): the call goes on from it.
    continues: str = ""


@dataclass(frozen=True)
class Attempt:
    """One answer the guard saw (or one sentence rewrite), with its verdict and time."""

    purpose: str
    text: str
    ok: bool
    findings: tuple[Finding, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "ok": self.ok,
            "seconds": round(self.seconds, 4),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class GuardResult:
    """What the guard returns: the answer (None when blocked), the verdict, every attempt
    and the findings left in the final text."""

    text: str | None
    verdict: Verdict
    attempts: tuple[Attempt, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return self.verdict in ("pass", "repaired", "regenerated")

    @property
    def generations(self) -> int:
        """Calls to the model (sentence rewrites included)."""
        return len(self.attempts)

    @property
    def added_seconds(self) -> float:
        """Time spent beyond the first answer: the guard's latency cost."""
        return sum(a.seconds for a in self.attempts[1:])

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "attempts": [a.to_dict() for a in self.attempts],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class GuardConfig:
    """How the guard acts. ``attempts`` bounds answers per request (the first included);
    ``cool_down`` multiplies the temperature at each retry; ``frame`` applies the target
    language's frame to the request first; ``rewrite_sentences`` is how many offending
    sentences ``repair`` may ask the model to rewrite before it regenerates instead."""

    policy: Policy
    strategy: GuardStrategy | str = GuardStrategy.regenerate
    attempts: int = 3
    cool_down: float = 0.7
    frame: bool = True
    rewrite_sentences: int = 2

    def __post_init__(self) -> None:
        if self.strategy not in _STRATEGY_NAMES:
            raise ValueError(f"unknown guard strategy {self.strategy!r}; one of {_STRATEGY_NAMES}")
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    @property
    def frame_data(self) -> Frame:
        return load_frame(self.policy.lang)


def user_text(messages: Sequence[Message]) -> str:
    """What the user wrote: words in it are allowed in the answer (POLICY.md)."""
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")


def describe(findings: Sequence[Finding], frame: Frame, limit: int = 3) -> str:
    """Major findings in the target language's words, for the corrective instruction.

    >>> from langlock.text.check import check
    >>> describe(check("Это важный milestone.").findings, load_frame("ru"))
    '«milestone» — иностранное слово'
    """
    parts: list[str] = []
    for f in findings:
        if f.major and len(parts) < limit:
            snippet = f.text if len(f.text) <= 40 else f.text[:40] + "…"
            part = f"«{snippet.strip()}» — {frame.problem(f.kind)}"
            if part not in parts:
                parts.append(part)
    return "; ".join(parts)


def corrected(messages: list[Message], report: Report, frame: Frame) -> list[Message]:
    """The request again, with what went wrong added to the system prompt (not fed back as
    an assistant turn, which small models copy)."""
    note = frame.correction.format(problems=describe(report.findings, frame))
    if messages and messages[0].get("role") == "system":
        head = {"role": "system", "content": f"{messages[0]['content']}\n{note}"}
        return [head, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]


def retry_options(options: dict[str, Any], attempt: int, cool_down: float) -> dict[str, Any]:
    """A retry's options: another seed (the same seed would give the same answer) and a
    cooler temperature.

    >>> retry_options({"temperature": 1.0, "seed": 7}, 3, 0.5)
    {'temperature': 0.25, 'seed': 9}
    """
    options = dict(options)
    if isinstance(options.get("temperature"), int | float):
        options["temperature"] = round(options["temperature"] * cool_down ** (attempt - 1), 4)
    if isinstance(options.get("seed"), int):
        options["seed"] = options["seed"] + attempt - 1
    return options


def offending_sentences(text: str, report: Report) -> list[tuple[int, int]]:
    """Spans of the sentences that hold a major finding a rewrite can cure.

    >>> t = "Первое предложение. Второе с milestone внутри. Третье."
    >>> [t[s:e] for s, e in offending_sentences(t, check(t))]
    ['Второе с milestone внутри.']
    """
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        if start < end and any(
            f.major and f.kind in REWRITABLE and f.start < end and f.end > start
            for f in report.findings
        ):
            spans.append((start, end))
    return spans


def plan(
    config: GuardConfig,
    messages: Sequence[Message],
    options: dict[str, Any],
    answers: Answers | None = None,
) -> Generator[Call, Any, GuardResult]:
    """The guard's decisions for one request: yields ``Call``s, receives each call's reply,
    returns the ``GuardResult``.

    ``answers`` judges the replies: by default each is a whole answer, ``(text, seconds)``;
    ``langlock.guarding.stream.StreamedAnswers`` judges streams, whose text reaches the
    client while it is written.
    """
    frame = config.frame_data
    request = frame_conversation(messages, frame) if config.frame else list(messages)
    answers = answers or Answers(config, user_text(messages))
    report = answers.judge("generate", (yield Call(request, dict(options), "generate")))
    if verdict := answers.settled(report, "pass"):
        return answers.result(verdict)
    if config.strategy == "repair":
        report = yield from answers.repair(report, frame, options)
        if report.ok:
            return answers.result("repaired")
    for attempt in range(2, config.attempts + 1):
        retry = retry_options(options, attempt, config.cool_down)
        call = answers.retry(corrected(request, report, frame), retry, frame)
        report = answers.judge("regenerate", (yield call))
        if verdict := answers.settled(report, "regenerated"):
            return answers.result(verdict)
    return answers.result("blocked" if config.strategy == "block" else "failed")


class Answers:
    """How ``plan`` judges replies: each is a whole answer, ``(text, seconds)``, checked as a
    whole; a failing one is repaired or replaced, and the best one is kept."""

    def __init__(self, config: GuardConfig, prompt: str) -> None:
        self.config = config
        #: What the user wrote: its words are allowed in the answer.
        self.prompt = prompt
        self.attempts: list[Attempt] = []
        #: The answer judged last, and the one with the fewest major findings.
        self.last: tuple[str, Report] = (
            "",
            Report("", config.policy.lang, config.policy.preset.name),
        )
        self.best = self.last

    def check(self, text: str) -> Report:
        return check(text, prompt=self.prompt, policy=self.config.policy)

    def record(self, purpose: str, text: str, seconds: float) -> Report:
        """Check an answer and keep it as an attempt."""
        report = self.check(text)
        attempt = Attempt(
            purpose=purpose,
            text=text,
            ok=report.ok,
            findings=tuple(report.findings),
            seconds=seconds,
        )
        self.attempts.append(attempt)
        return report

    def judge(self, purpose: Purpose, reply: tuple[str, float]) -> Report:
        text, seconds = reply
        report = self.record(purpose, text, seconds)
        self.last = (text, report)
        if purpose == "generate" or _majors(report) <= _majors(self.best[1]):
            self.best = self.last
        return report

    def settled(self, report: Report, verdict: Verdict) -> Verdict | None:
        """``verdict`` when the answer passed, ``failed`` when it is only annotated, None
        while the guard goes on."""
        if report.ok:
            return verdict
        return "failed" if self.config.strategy == "annotate" else None

    def repair(
        self, report: Report, frame: Frame, options: dict[str, Any]
    ) -> Generator[Call, tuple[str, float], Report]:
        """Certain fixes first; then, when few sentences still fail, a rewrite of each."""
        config = self.config
        fixed = fix(self.last[0], prompt=self.prompt, policy=config.policy)
        text, report = fixed.text, fixed.remaining
        sentences = offending_sentences(text, report)
        if not (report.ok or not sentences or len(sentences) > config.rewrite_sentences):
            rewrite_options = {**options, "temperature": 0.2}
            for start, end in reversed(sentences):  # from the end: earlier offsets stay valid
                ask = [
                    {"role": "system", "content": f"{frame.system}\n{frame.negative}"},
                    {"role": "user", "content": frame.rewrite.format(sentence=text[start:end])},
                ]
                new, seconds = yield Call(ask, rewrite_options, "rewrite")
                new = new.strip().strip("«»\"'").strip()
                if new and self.record("rewrite", new, seconds).ok:
                    text = text[:start] + new + text[end:]
            report = self.check(text)
        self.last = self.best = (text, report)
        return report

    def retry(self, messages: list[Message], options: dict[str, Any], frame: Frame) -> Call:
        """The call that replaces a failed answer: the request told what went wrong."""
        return Call(messages, options, "regenerate")

    def result(self, verdict: Verdict) -> GuardResult:
        """The last answer when it passed or was repaired; else the best, or none when
        blocked."""
        text, report = self.best if verdict in ("failed", "blocked") else self.last
        shown = None if verdict == "blocked" else text
        return GuardResult(
            text=shown,
            verdict=verdict,
            attempts=tuple(self.attempts),
            findings=tuple(report.findings),
        )


def _majors(report: Report) -> int:
    return sum(1 for f in report.findings if f.major)


Generate = Callable[..., str]
AsyncGenerate = Callable[..., Awaitable[str]]


@dataclass
class Guard:
    """``langlock.guard(generate_fn, ...)``: call it with a prompt or chat messages (and any
    options ``generate_fn`` takes, passed through) to get a ``GuardResult``.

    ``generate_fn(messages, **options) -> str`` is any generator: a llama.cpp call, an
    OpenAI client call, a transformers pipeline.
    """

    generate: Generate
    config: GuardConfig
    clock: Callable[[], float] = field(default=time.perf_counter, repr=False)

    def __call__(self, prompt: str | Sequence[Message], **options: Any) -> GuardResult:
        steps = plan(self.config, as_messages(prompt), options)
        call = next(steps)
        while True:
            started = self.clock()
            text = self.generate(call.messages, **call.options)
            try:
                call = steps.send((text, self.clock() - started))
            except StopIteration as done:
                return done.value


@dataclass
class AsyncGuard:
    """The async ``Guard``: ``generate_fn`` is a coroutine function."""

    generate: AsyncGenerate
    config: GuardConfig
    clock: Callable[[], float] = field(default=time.perf_counter, repr=False)

    async def __call__(self, prompt: str | Sequence[Message], **options: Any) -> GuardResult:
        steps = plan(self.config, as_messages(prompt), options)
        call = next(steps)
        while True:
            started = self.clock()
            text = await self.generate(call.messages, **call.options)
            try:
                call = steps.send((text, self.clock() - started))
            except StopIteration as done:
                return done.value


def as_messages(prompt: str | Sequence[Message]) -> list[Message]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def guard(
    generate_fn: Generate,
    lang: str = "ru",
    preset: str = "standard",
    strategy: GuardStrategy | str = GuardStrategy.regenerate,
    attempts: int = 3,
    frame: bool = True,
    cool_down: float = 0.7,
    policy: Policy | None = None,
) -> Guard:
    """Wrap a generator so every answer is framed, checked and, on failure, regenerated,
    repaired, annotated or blocked (``strategy``)."""
    return Guard(generate_fn, _config(lang, preset, strategy, attempts, frame, cool_down, policy))


def aguard(
    generate_fn: AsyncGenerate,
    lang: str = "ru",
    preset: str = "standard",
    strategy: GuardStrategy | str = GuardStrategy.regenerate,
    attempts: int = 3,
    frame: bool = True,
    cool_down: float = 0.7,
    policy: Policy | None = None,
) -> AsyncGuard:
    """``guard`` for a coroutine function."""
    config = _config(lang, preset, strategy, attempts, frame, cool_down, policy)
    return AsyncGuard(generate_fn, config)


def _config(
    lang: str,
    preset: str,
    strategy: GuardStrategy | str,
    attempts: int,
    frame: bool,
    cool_down: float,
    policy: Policy | None,
) -> GuardConfig:
    policy = policy or Policy.from_options(lang=lang, preset=preset)
    return GuardConfig(
        policy=policy, strategy=strategy, attempts=attempts, cool_down=cool_down, frame=frame
    )


__all__ = [
    "Answers",
    "AsyncGuard",
    "Attempt",
    "Call",
    "Guard",
    "GuardConfig",
    "GuardResult",
    "GuardStrategy",
    "aguard",
    "guard",
    "plan",
]
