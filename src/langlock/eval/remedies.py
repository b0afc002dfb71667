"""Remedies side by side: a small registry (``REMEDIES``) that later remedies plug into.

A remedy turns one prompt into one answer through a backend. ``needs`` names the backend
abilities it requires; remedies a backend cannot honour are skipped, with the reason. In the
JSON outputs and on the command line a remedy is a "strategy" (``--strategy frame+lock``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from langlock.eval.backends import Backend, Generation, LockRequest
from langlock.guarding.frames import load_frame, messages_for
from langlock.policy import Policy, policy_for, requested_scripts


@dataclass(frozen=True)
class Task:
    """What a remedy answers, and under which settings."""

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


class Remedy(Protocol):
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
            text=result.text or "",
            tokens=sum(c.tokens for c in calls),
            seconds=sum(c.seconds for c in calls),
            finish=calls[-1].finish,
            attempts=len(calls),
            added_seconds=sum(c.seconds for c in calls[1:]),
        )


#: Every remedy by name, in the order ``--strategy all`` runs them.
REMEDIES: dict[str, Remedy] = {}


def register(remedy: Remedy) -> Remedy:
    """Add a remedy to the registry (by its name)."""
    REMEDIES[remedy.name] = remedy
    return remedy


for _remedy in (
    FrameAndLock("none", "the prompt as it is"),
    FrameAndLock("frame", "target-language system prompt and examples", frame=True),
    FrameAndLock("lock", "locked decoding", lock=True, needs=frozenset({"lock"})),
    FrameAndLock(
        name="frame+lock",
        description="frame and locked decoding",
        frame=True,
        lock=True,
        needs=frozenset({"lock"}),
    ),
    Guarded("guard", "frame, check, regenerate (up to 3 answers)"),
    Guarded(
        "frame+lock+guard",
        "frame and locked decoding, checked and regenerated",
        lock=True,
        needs=frozenset({"lock"}),
    ),
):
    register(_remedy)


#: What ``langlock eval`` runs when no ``--strategy`` is given: each remedy alone and both.
DEFAULT_REMEDIES: tuple[str, ...] = ("none", "frame", "lock", "frame+lock")
#: The name that stands for every registered remedy.
ALL = "all"


def remedy_names(given: Sequence[str] | None = None) -> list[str]:
    """The remedies to run: ``DEFAULT_REMEDIES`` when none are given, every one for "all".

    >>> remedy_names(), remedy_names(["lock"]), remedy_names(["all"])[-1]
    (['none', 'frame', 'lock', 'frame+lock'], ['lock'], 'frame+lock+guard')
    """
    if not given:
        return list(DEFAULT_REMEDIES)
    return list(REMEDIES) if ALL in given else list(given)


def backend_abilities(backend: Backend) -> frozenset[str]:
    return frozenset({"lock"}) if backend.can_lock else frozenset()


def choose(names: list[str], backend: Backend) -> tuple[list[Remedy], dict[str, str]]:
    """The remedies to run, and those skipped with the reason.

    >>> class Remote:
    ...     name, model, can_lock = "endpoint", "m", False
    >>> run, skipped = choose(["none", "lock"], Remote())
    >>> [s.name for s in run], skipped
    (['none'], {'lock': 'needs lock, which the endpoint backend cannot do'})
    """
    unknown = [n for n in names if n not in REMEDIES]
    if unknown:
        raise ValueError(f"unknown strategy {unknown[0]!r}; choose from {', '.join(REMEDIES)}")
    abilities = backend_abilities(backend)
    run, skipped = [], {}
    for name in names:
        missing = REMEDIES[name].needs - abilities
        if missing:
            skipped[name] = (
                f"needs {', '.join(sorted(missing))}, which the {backend.name} backend cannot do"
            )
        else:
            run.append(REMEDIES[name])
    return run, skipped
