"""Guard and proxy: frame, check and regenerate around any generator or OpenAI-compatible
server (``langlock.guard``, ``langlock.aguard``, ``langlock serve``)."""

from langlock.guarding.core import (
    AsyncGuard,
    Attempt,
    Guard,
    GuardConfig,
    GuardResult,
    GuardStrategy,
    aguard,
    guard,
)

__all__ = [
    "AsyncGuard",
    "Attempt",
    "Guard",
    "GuardConfig",
    "GuardResult",
    "GuardStrategy",
    "aguard",
    "guard",
]
