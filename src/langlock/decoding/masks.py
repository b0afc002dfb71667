"""Which tokens may come next: a policy compiled against a token table, per UTF-8 state.

A token is judged by the characters its bytes complete, given the bytes of an unfinished
character already emitted (the *pending* prefix). A token that ends inside a character is
allowed only when that character can still become an allowed one: ``<0xE5>`` in Gemma
starts U+5000–U+5FFF, all Han, so it is banned in Russian prose, and the Han character it
would begin can never appear.

Scripts: the target's own, Common and Inherited are always allowed; Latin is allowed in
code and, in prose, only outside the ``strict`` preset (``standard`` penalises it with a
bias instead); every other script (Han, kana, Hangul, Arabic, …) is banned everywhere,
code comments included, unless the user allows it. Special tokens are never masked (EOS
and stop tokens must stay reachable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from langlock.decoding.token_bytes import TokenTable
from langlock.policy import Policy
from langlock.text.scripts import script_of, utf8_length

Mode = Literal["prose", "code"]
_ALWAYS = frozenset({"Common", "Inherited"})


@dataclass
class ScriptRule:
    """Which scripts a policy allows in prose and in code."""

    native: frozenset[str]
    latin_in_prose: bool
    extra: frozenset[str] = field(default_factory=frozenset)
    #: Letters of the native script outside this alphabet (Serbian ј, Ukrainian ї in Russian)
    #: are another language's: banned too. Empty: every native letter is fine.
    alphabet: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_policy(cls, policy: Policy, allow_scripts: frozenset[str] = frozenset()) -> ScriptRule:
        profile = policy.profile
        letters = profile.alphabet.lower() + profile.alphabet.upper()
        return cls(
            native=profile.scripts,
            latin_in_prose=policy.preset.latin_words != "all" or profile.native_is_latin,
            extra=policy.allow_scripts | allow_scripts,
            alphabet=frozenset() if profile.native_is_latin else frozenset(letters),
        )

    def allows(self, char: str, mode: Mode) -> bool:
        script = script_of(char)
        if script in self.native and script not in self.extra:
            return not self.alphabet or char in self.alphabet or not char.isalpha()
        if script in _ALWAYS or script in self.extra:
            return True
        if script == "Latin":
            return mode == "code" or self.latin_in_prose
        return False


class MaskCompiler:
    """Allowed-token sets per (mode, pending bytes), computed once each and cached.

    The clean state (no unfinished character) judges every token once per mode. A pending
    state needs only the tokens that start with continuation bytes, grouped by those bytes:
    a few thousand of them, so a new state costs milliseconds, not a pass over the vocabulary.
    """

    def __init__(self, table: TokenTable, rule: ScriptRule) -> None:
        self.table = table
        self.rule = rule
        self._prefix_ok = lru_cache(maxsize=4096)(self._prefix_can_complete)
        self._masks: dict[tuple[Mode, bytes], frozenset[int]] = {}
        self._heads: dict[bytes, list[int]] | None = None

    def allowed(self, mode: Mode = "prose", pending: bytes = b"") -> frozenset[int]:
        """Token ids allowed after ``pending`` (an unfinished character's bytes) in ``mode``."""
        key = (mode, pending)
        if key not in self._masks:
            if pending:
                self._masks[key] = self._after_pending(mode, pending)
            else:
                table = self.table
                self._masks[key] = frozenset(
                    i
                    for i, piece in enumerate(table.pieces)
                    if i in table.special or self.token_ok(piece, mode)
                )
        return self._masks[key]

    def _after_pending(self, mode: Mode, pending: bytes) -> frozenset[int]:
        need = utf8_length(pending[0]) - len(pending)
        if need <= 0:
            return frozenset(self.table.special)
        ok = set(self.table.special)
        pieces = self.table.pieces
        for head, ids in self._continuation_heads().items():
            if len(head) < need:  # the token ends before the character does
                if self._prefix_ok(pending + head, mode):
                    ok.update(i for i in ids if len(pieces[i]) == len(head))
            elif len(head) == need and self.token_ok(head, mode, pending):
                ok.update(i for i in ids if self.token_ok(pieces[i][need:], mode))
        return frozenset(ok)

    def _continuation_heads(self) -> dict[bytes, list[int]]:
        """Tokens that start with continuation bytes, by that leading run (at most 3)."""
        if self._heads is None:
            heads: dict[bytes, list[int]] = {}
            for i, piece in enumerate(self.table.pieces):
                run = 0
                while run < len(piece) and 0x80 <= piece[run] <= 0xBF:
                    run += 1
                if 0 < run <= 3 and i not in self.table.special:
                    heads.setdefault(piece[:run], []).append(i)
            self._heads = heads
        return self._heads

    def token_ok(self, piece: bytes, mode: Mode, pending: bytes = b"") -> bool:
        """May a token with these bytes follow ``pending`` in ``mode``?

        >>> from langlock.policy import Policy
        >>> m = MaskCompiler(TokenTable((), frozenset(), "sentencepiece"),
        ...                  ScriptRule.from_policy(Policy.from_options(preset="strict")))
        >>> m.token_ok("при".encode(), "prose"), m.token_ok(b"\\xe5", "prose")
        (True, False)
        >>> m.token_ok(b"hello", "prose"), m.token_ok(b"hello", "code")
        (False, True)
        >>> m.token_ok(b"\\x8e\\x9a", "prose", b"\\xe5"), m.token_ok(b"\\xbf", "prose", b"\\xd0")
        (False, True)
        """
        data = pending + piece
        pos = 0
        while pos < len(data):
            need = utf8_length(data[pos])
            if need == 0:
                return False  # a stray continuation byte: never valid UTF-8
            if pos + need > len(data):
                return self._prefix_ok(data[pos:], mode)
            try:
                char = data[pos : pos + need].decode("utf-8")
            except UnicodeDecodeError:
                return False
            if not self.rule.allows(char, mode):
                return False
            pos += need
        return True

    def _prefix_can_complete(self, prefix: bytes, mode: Mode) -> bool:
        """Can these first bytes of a character end as an allowed character?"""
        need = utf8_length(prefix[0])
        missing = need - len(prefix)
        if need == 0 or missing <= 0 or any(not 0x80 <= b <= 0xBF for b in prefix[1:]):
            return False
        for tail in _continuations(missing):
            try:
                char = (prefix + tail).decode("utf-8")
            except UnicodeDecodeError:
                continue
            if self.rule.allows(char, mode):
                return True
        return False


@lru_cache(maxsize=3)
def _continuations(count: int) -> tuple[bytes, ...]:
    """Every run of ``count`` UTF-8 continuation bytes (64, 4,096 or 262,144 of them)."""
    if count == 1:
        return tuple(bytes([b]) for b in range(0x80, 0xC0))
    return tuple(bytes([b]) + rest for b in range(0x80, 0xC0) for rest in _continuations(count - 1))
