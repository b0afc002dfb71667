"""What every detector needs to know about one text, computed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import regex

from langlock.policy import Policy, requested_by_prompt
from langlock.text.findings import Finding, Severity, line_of, line_starts
from langlock.text.regions import Regions
from langlock.text.scripts import letters_of, script_of

#: Regions that POLICY.md always allows: ``fix`` never edits text inside them.
FIX_PROTECTED = frozenset({"code", "url", "email", "path", "latex"})
_LATIN_WORD = regex.compile(r"[A-Za-z\p{Latin}][\p{Latin}\p{M}]*")


@dataclass
class Context:
    """A text under check, its policy and prompt, and derived facts shared by detectors."""

    text: str
    policy: Policy
    prompt: str | None = None
    regions: Regions = field(init=False)
    #: Per-check scratch space for detectors (words of a run, …), dropped with the context.
    memo: dict[object, object] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.regions = Regions.find(self.text)
        self._region_starts = self.regions.starts()

    @cached_property
    def line_starts(self) -> list[int]:
        return line_starts(self.text)

    @cached_property
    def requested(self) -> frozenset[str]:
        """Languages and scripts the prompt asks for, plus the user's allowed scripts."""
        asked = requested_by_prompt(self.policy.profile, self.prompt) | self.policy.allow_scripts
        return asked | self.prompt_scripts

    @cached_property
    def prompt_scripts(self) -> frozenset[str]:
        """Scripts the prompt itself is written in (a user who writes 注ぐ may get 注ぐ back)."""
        if not self.prompt:
            return frozenset()
        native = self.policy.profile.scripts | {"Latin"}
        letters = letters_of(frozenset(native))
        return frozenset(script_of(c) for c in letters.sub("", self.prompt) if c.isalpha()) - native

    @cached_property
    def prompt_words(self) -> frozenset[str]:
        """Latin-letter words of the prompt: the user wrote them, so the answer may too."""
        if not self.prompt:
            return frozenset()
        return frozenset(m.group().casefold() for m in _LATIN_WORD.finditer(self.prompt))

    @cached_property
    def code_words(self) -> frozenset[str]:
        """Words that appear inside the answer's own code: prose may name them."""
        words: set[str] = set()
        for s, e in self.regions.code_spans():
            words.update(m.group().casefold() for m in _LATIN_WORD.finditer(self.text, s, e))
        return frozenset(words)

    def protected(self, start: int, end: int) -> str | None:
        """Kind of the protected region overlapping ``[start, end)``, or None."""
        return self.regions.covering(start, end, self._region_starts)

    def unprotected(self) -> list[tuple[int, int]]:
        """The stretches of text between protected regions.

        >>> from langlock.policy import Policy
        >>> Context("a `b` c", Policy.from_options()).unprotected()
        [(0, 2), (5, 7)]
        """
        gaps, pos = [], 0
        for s, e, _ in self.regions.spans:
            if s > pos:
                gaps.append((pos, s))
            pos = max(pos, e)
        if pos < len(self.text):
            gaps.append((pos, len(self.text)))
        return gaps

    def in_code(self, start: int, end: int) -> bool:
        return self.protected(start, end) == "code"

    @cached_property
    def allowed_words(self) -> frozenset[str]:
        """Terms the user allowed, words of the prompt and identifiers of the answer's code
        (casefolded)."""
        return self.policy.allow | self.prompt_words | self.code_words

    def allowed_word(self, word: str) -> bool:
        return word.casefold() in self.allowed_words

    def line(self, offset: int) -> int:
        return line_of(self.line_starts, offset)

    def finding(
        self,
        kind: str,
        start: int,
        end: int,
        message: str,
        fix: str | None = None,
        severity: Severity = "major",
    ) -> Finding:
        # A fix never edits protected text (POLICY.md: code, URLs, … are always allowed).
        if fix is not None and self.protected(start, end) in FIX_PROTECTED:
            fix = None
        return Finding(
            kind, severity, start, end, self.line(start), self.text[start:end], message, fix
        )
