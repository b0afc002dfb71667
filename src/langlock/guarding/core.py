"""Check-and-regenerate around any text generator: frame the request, check the answer, and
on failure regenerate, repair, annotate or block.

The decisions live in one engine-free plan (``guard_plan``), a generator that yields the
calls it wants made and receives their answers; ``Guard`` drives it with a plain function
and ``AsyncGuard`` with a coroutine, so the sync and async guards cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import regex

from langlock.guarding.frames import Frame, Message, frame_conversation, load_frame
from langlock.policy import Policy
from langlock.text.check import check
from langlock.text.findings import Finding, Report
from langlock.text.repair import fix

GuardStrategy = Literal["regenerate", "repair", "annotate", "block"]
STRATEGIES: tuple[str, ...] = ("regenerate", "repair", "annotate", "block")
Verdict = Literal["pass", "repaired", "regenerated", "failed", "blocked"]
#: Finding kinds a one-sentence rewrite can cure (a loop or a leaked token cannot).
REWRITABLE = frozenset({"foreign_script", "foreign_word", "wrong_language", "translit"})
_SENTENCE = regex.compile(r"[^\n.!?…]*(?:[.!?…]+|(?=\n)|$)")


@dataclass(frozen=True)
class Call:
    """One request the guard wants made: messages and generation options."""

    messages: list[Message]
    options: dict[str, Any]
    purpose: Literal["generate", "regenerate", "rewrite"]


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
    strategy: GuardStrategy = "regenerate"
    attempts: int = 3
    cool_down: float = 0.7
    frame: bool = True
    rewrite_sentences: int = 2

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown guard strategy {self.strategy!r}; one of {STRATEGIES}")
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
    config: GuardConfig, messages: Sequence[Message], options: dict[str, Any]
) -> Generator[Call, tuple[str, float], GuardResult]:
    """The guard's decisions for one request: yields ``Call``s, receives ``(text, seconds)``
    for each, returns the ``GuardResult``."""
    frame = config.frame_data
    prompt = user_text(messages)
    request = frame_conversation(messages, frame) if config.frame else list(messages)
    attempts: list[Attempt] = []

    def judge(purpose: str, text: str, seconds: float) -> Report:
        report = check(text, prompt=prompt, policy=config.policy)
        attempts.append(Attempt(purpose, text, report.ok, tuple(report.findings), seconds))
        return report

    text, seconds = yield Call(request, dict(options), "generate")
    report = judge("generate", text, seconds)
    if report.ok or config.strategy == "annotate":
        return _result(text, "pass" if report.ok else "failed", attempts, report)
    if config.strategy == "repair":
        text, report = yield from _repair(config, frame, prompt, text, report, options, judge)
        if report.ok:
            return _result(text, "repaired", attempts, report)
    best = (text, report)
    for attempt in range(2, config.attempts + 1):
        call = Call(
            corrected(request, report, frame),
            retry_options(options, attempt, config.cool_down),
            "regenerate",
        )
        text, seconds = yield call
        report = judge("regenerate", text, seconds)
        if report.ok:
            return _result(text, "regenerated", attempts, report)
        if _majors(report) <= _majors(best[1]):
            best = (text, report)
    if config.strategy == "block":
        return _result(None, "blocked", attempts, best[1])
    return _result(best[0], "failed", attempts, best[1])


def _repair(
    config: GuardConfig,
    frame: Frame,
    prompt: str,
    text: str,
    report: Report,
    options: dict[str, Any],
    judge: Callable[[str, str, float], Report],
) -> Generator[Call, tuple[str, float], tuple[str, Report]]:
    """Certain fixes first; then, when few sentences still fail, a rewrite of each."""
    fixed = fix(text, prompt=prompt, policy=config.policy)
    text, report = fixed.text, fixed.remaining
    sentences = offending_sentences(text, report)
    if report.ok or not sentences or len(sentences) > config.rewrite_sentences:
        return text, report
    rewrite_options = {**options, "temperature": 0.2}
    for start, end in reversed(sentences):  # from the end, so earlier offsets stay valid
        ask = [
            {"role": "system", "content": f"{frame.system}\n{frame.negative}"},
            {"role": "user", "content": frame.rewrite.format(sentence=text[start:end])},
        ]
        new, seconds = yield Call(ask, rewrite_options, "rewrite")
        new = new.strip().strip("«»\"'").strip()
        if new and judge("rewrite", new, seconds).ok:
            text = text[:start] + new + text[end:]
    return text, check(text, prompt=prompt, policy=config.policy)


def _majors(report: Report) -> int:
    return sum(1 for f in report.findings if f.major)


def _result(
    text: str | None, verdict: Verdict, attempts: list[Attempt], report: Report
) -> GuardResult:
    return GuardResult(text, verdict, tuple(attempts), tuple(report.findings))


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
    strategy: GuardStrategy = "regenerate",
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
    strategy: GuardStrategy = "regenerate",
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
    strategy: GuardStrategy,
    attempts: int,
    frame: bool,
    cool_down: float,
    policy: Policy | None,
) -> GuardConfig:
    policy = policy or Policy.from_options(lang=lang, preset=preset)
    return GuardConfig(policy, strategy, attempts, cool_down, frame)


__all__ = [
    "AsyncGuard",
    "Attempt",
    "Call",
    "Guard",
    "GuardConfig",
    "GuardResult",
    "aguard",
    "guard",
]
