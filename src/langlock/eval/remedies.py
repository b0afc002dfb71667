"""Remedies side by side: a small registry that later remedies (guard, ...) plug into.

A strategy turns one prompt into one answer through a backend. ``needs`` names the backend
abilities it requires; strategies a backend cannot honour are skipped, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from langlock.eval.backends import Backend, Generation, LockRequest
from langlock.guarding.frames import load_frame, messages_for
from langlock.policy import Policy, policy_for, requested_scripts


@dataclass(frozen=True)
class Task:
    """What a strategy answers, and under which settings."""

    prompt: str
    lang: str
    lock_policy: Policy
    temperature: float
    seed: int
    max_tokens: int
    repeat_penalty: float | None = None
    #: The policy answers are scored by (the guard checks against it).
    policy: Policy | None = None

    def lock_request(self) -> LockRequest:
        """Lock under the lock policy; scripts the prompt legitimately asks for stay open
        («по-китайски» opens Han)."""
        return LockRequest(
            self.lock_policy, requested_scripts(self.lock_policy.profile, self.prompt)
        )


class Strategy(Protocol):
    name: str
    description: str
    needs: frozenset[str]

    def run(self, backend: Backend, task: Task) -> Generation: ...


@dataclass(frozen=True)
class FrameAndLock:
    """The built-in remedies: the target-language frame, locked decoding, or both."""

    name: str
    description: str
    frame: bool = False
    lock: bool = False
    needs: frozenset[str] = field(default_factory=frozenset)

    def run(self, backend: Backend, task: Task) -> Generation:
        frame = load_frame(task.lang) if self.frame else None
        request = task.lock_request() if self.lock else None
        return backend.generate(
            messages_for(task.prompt, frame),
            temperature=task.temperature,
            seed=task.seed,
            max_tokens=task.max_tokens,
            lock=request,
            repeat_penalty=task.repeat_penalty,
        )


@dataclass(frozen=True)
class Guarded:
    """The guard (frame, check, regenerate up to ``attempts`` answers), optionally over
    locked decoding. Its answers count once each; attempts and added latency are kept."""

    name: str
    description: str
    lock: bool = False
    attempts: int = 3
    needs: frozenset[str] = field(default_factory=frozenset)

    def run(self, backend: Backend, task: Task) -> Generation:
        from langlock.guarding.core import Guard, GuardConfig

        request = task.lock_request() if self.lock else None
        calls: list[Generation] = []

        def generate(messages: list[dict[str, str]], temperature: float, seed: int) -> str:
            calls.append(
                backend.generate(
                    messages,
                    temperature=temperature,
                    seed=seed,
                    max_tokens=task.max_tokens,
                    lock=request,
                    repeat_penalty=task.repeat_penalty,
                )
            )
            return calls[-1].text

        policy = task.policy or policy_for(task.lang, "standard")
        config = GuardConfig(policy, "regenerate", self.attempts)
        result = Guard(generate, config)(task.prompt, temperature=task.temperature, seed=task.seed)
        return Generation(
            result.text or "",
            sum(c.tokens for c in calls),
            sum(c.seconds for c in calls),
            calls[-1].finish,
            attempts=len(calls),
            added_seconds=sum(c.seconds for c in calls[1:]),
        )


STRATEGIES: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add a strategy to the registry (by its name)."""
    STRATEGIES[strategy.name] = strategy
    return strategy


for _strategy in (
    FrameAndLock("none", "the prompt as it is"),
    FrameAndLock("frame", "target-language system prompt and examples", frame=True),
    FrameAndLock("lock", "locked decoding", lock=True, needs=frozenset({"lock"})),
    FrameAndLock("frame+lock", "frame and locked decoding", True, True, needs=frozenset({"lock"})),
    Guarded("guard", "frame, check, regenerate (up to 3 answers)"),
    Guarded(
        "frame+lock+guard",
        "frame and locked decoding, checked and regenerated",
        lock=True,
        needs=frozenset({"lock"}),
    ),
):
    register(_strategy)


def backend_abilities(backend: Backend) -> frozenset[str]:
    return frozenset({"lock"}) if backend.can_lock else frozenset()


def choose(names: list[str], backend: Backend) -> tuple[list[Strategy], dict[str, str]]:
    """The strategies to run, and those skipped with the reason.

    >>> class Remote:
    ...     name, model, can_lock = "endpoint", "m", False
    >>> run, skipped = choose(["none", "lock"], Remote())
    >>> [s.name for s in run], skipped
    (['none'], {'lock': 'needs lock, which the endpoint backend cannot do'})
    """
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategy {unknown[0]!r}; choose from {', '.join(STRATEGIES)}")
    abilities = backend_abilities(backend)
    run, skipped = [], {}
    for name in names:
        missing = STRATEGIES[name].needs - abilities
        if missing:
            skipped[name] = (
                f"needs {', '.join(sorted(missing))}, which the {backend.name} backend cannot do"
            )
        else:
            run.append(STRATEGIES[name])
    return run, skipped
