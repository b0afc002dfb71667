"""Guard and proxy: frame, check and regenerate around any generator or OpenAI-compatible
server (``langlock.guard``, ``langlock.aguard``, ``langlock serve``)."""

from langlock.guarding.core import (
    STRATEGIES,
    AsyncGuard,
    Attempt,
    Guard,
    GuardConfig,
    GuardResult,
    aguard,
    guard,
)

__all__ = [
    "STRATEGIES",
    "AsyncGuard",
    "Attempt",
    "Guard",
    "GuardConfig",
    "GuardResult",
    "aguard",
    "guard",
]
