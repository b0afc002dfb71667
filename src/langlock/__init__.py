"""langlock: keep language models answering in one language.

>>> import langlock
>>> langlock.check("Привет, как дела?").ok
True
"""

from langlock.policy import PRESETS, Policy, available_languages, load_profile
from langlock.text.check import check
from langlock.text.findings import KINDS, Change, Finding, Fixed, Report
from langlock.text.repair import fix

__all__ = [
    "KINDS",
    "PRESETS",
    "Change",
    "Finding",
    "Fixed",
    "Policy",
    "Report",
    "aguard",
    "available_languages",
    "check",
    "fix",
    "guard",
    "load_profile",
    "lock",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # ``langlock.lock`` needs numpy (and an engine); importing it lazily keeps
    # ``import langlock`` light for users of check and fix.
    if name == "lock":
        from langlock.decoding import lock

        return lock
    if name in ("guard", "aguard"):
        from langlock import guarding

        return getattr(guarding, name)
    raise AttributeError(f"module 'langlock' has no attribute {name!r}")
