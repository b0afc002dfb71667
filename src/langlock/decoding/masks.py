"""Which tokens may come next: a policy compiled against a token table, per UTF-8 state.

A token is judged by the characters its bytes complete, given the bytes of an unfinished
character already emitted (the *pending* prefix). A token that ends inside a character is
allowed only when that character can still become an allowed one: ``<0xE5>`` in Gemma
starts U+5000–U+5FFF, all Han, so it is banned in Russian prose, and the Han character it
would begin can never appear.

Scripts: the target's own, Common and Inherited are always allowed; Latin is allowed in
code and URLs and, in prose, only outside the ``strict`` preset (``standard`` penalises it with a
bias instead); every other script (Han, kana, Hangul, Arabic, …) is banned everywhere,
code comments included, unless the user allows it. Special tokens are never masked (EOS
and stop tokens must stay reachable).

Words: even where both scripts are open (a prompt that asks for English words), prose never
switches script inside a word: no token that mixes native and foreign letters side by side
(``тогожеuser``), and after a native letter no token that starts with a foreign one, and the
reverse. A hyphen or apostrophe is a word boundary here (``SQL-запрос`` stays possible).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import regex

from langlock.decoding.token_bytes import TokenTable
from langlock.policy import Policy
from langlock.text.scripts import script_of, utf8_length

Mode = Literal["prose", "code", "url"]
LetterClass = Literal["native", "foreign"]
_ALWAYS = frozenset({"Common", "Inherited"})
_LATIN = regex.compile(r"\p{Latin}")
#: Unassigned, private-use and surrogate code points, controls and invisible format
#: characters never belong in an answer (the checker flags them as ``invisible``).
_NEVER_CATEGORIES = frozenset({"Cn", "Co", "Cs", "Cc", "Cf"})
_CONTROL_OK = frozenset("\t\n\r\u200d")  # whitespace, and the joiner inside emoji
#: How a URL starts in prose; after one of these the URL state lets Latin through.
URL_SCHEMES = ("https://", "http://", "www.")


def mask_mode(mode: Mode) -> Mode:
    """URLs and code share masks: Latin is fine in both."""
    return "code" if mode == "url" else mode


def _continues_scheme(tail: str, text: str) -> bool:
    """Does ``tail + text`` begin a URL scheme, or complete one?

    >>> _continues_scheme("", "http"), _continues_scheme("htt", "ps://ru")
    (True, True)
    >>> _continues_scheme("", "hi"), _continues_scheme("ht", "ml")
    (False, False)
    """
    word = tail + text
    return bool(text) and any(s.startswith(word) or word.startswith(s) for s in URL_SCHEMES)


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
        """May ``char`` appear in ``mode``?

        >>> from langlock.policy import Policy
        >>> rule = ScriptRule.from_policy(Policy.from_options(preset="strict"))
        >>> [rule.allows(c, "prose") for c in ("ж", "1", "q", "中", "\u05cf", "\u200b")]
        [True, True, False, False, False, False]
        """
        if unicodedata.category(char) in _NEVER_CATEGORIES and char not in _CONTROL_OK:
            return False
        script = script_of(char)
        if script in self.native and script not in self.extra:
            return not self.alphabet or char in self.alphabet or not char.isalpha()
        if script in _ALWAYS or script in self.extra:
            return True
        if script == "Latin":
            return mode != "prose" or self.latin_in_prose
        return False

    def letter_class(self, char: str) -> LetterClass | None:
        """Whose letter ``char`` is: the target's (``native``), another script's
        (``foreign``), or no letter at all (None).

        >>> from langlock.policy import Policy
        >>> rule = ScriptRule.from_policy(Policy.from_options())
        >>> [rule.letter_class(c) for c in ("ж", "q", "-", "1")]
        ['native', 'foreign', None, None]
        """
        if not char.isalpha():
            return None
        script = script_of(char)
        if script in self.native:
            return "native"
        return None if script in _ALWAYS else "foreign"

    def key(self) -> dict[str, Any]:
        """What the rule is, for cache keys."""
        return {
            "native": sorted(self.native),
            "latin_in_prose": self.latin_in_prose,
            "extra": sorted(self.extra),
            "alphabet": "".join(sorted(self.alphabet)),
        }


class MaskCompiler:
    """Allowed tokens per (mode, pending bytes), as boolean arrays over the table.

    The clean state (no unfinished character) judges every token once per mode; those
    arrays are cached on disk by table hash and rule. A pending state needs only the tokens
    that start with continuation bytes, grouped by those bytes: a few thousand of them, so a
    new state costs milliseconds, not a pass over the vocabulary. ``url`` shares ``code``'s
    masks: Latin is fine in both, other foreign scripts are not.
    """

    def __init__(self, table: TokenTable, rule: ScriptRule, cache: bool = True) -> None:
        self.table = table
        self.rule = rule
        self.cache = cache
        self._prefix_ok = lru_cache(maxsize=4096)(self._prefix_can_complete)
        self._arrays: dict[tuple[str, bytes], np.ndarray] = {}
        self._heads: dict[bytes, list[int]] | None = None
        self._scheme_candidates: list[tuple[int, str]] | None = None

    def allowed(self, mode: Mode = "prose", pending: bytes = b"") -> frozenset[int]:
        """Token ids allowed after ``pending`` (an unfinished character's bytes) in ``mode``.

        >>> from langlock.policy import Policy
        >>> table = TokenTable((b"", b"\\xd0\\xbf", b"hi", b"\\xe5"), frozenset({0}),
        ...                    "sentencepiece")
        >>> m = MaskCompiler(table, ScriptRule.from_policy(Policy.from_options(preset="strict")),
        ...                  cache=False)
        >>> sorted(m.allowed("prose")), sorted(m.allowed("url"))
        ([0, 1], [0, 1, 2])
        """
        return frozenset(np.flatnonzero(self.allowed_array(mode, pending)).tolist())

    def allowed_array(self, mode: Mode = "prose", pending: bytes = b"") -> np.ndarray:
        """``allowed`` as a boolean array over the table (one entry per token id)."""
        key = (mask_mode(mode), pending)
        if key not in self._arrays:
            if pending:
                self._arrays[key] = self._ids_array(self._after_pending(key[0], pending))
            else:
                self._load_clean_states()
        return self._arrays[key]

    def latin_array(self) -> np.ndarray:
        """Tokens allowed in clean prose that carry a Latin letter: what a soft bias targets."""
        return self._clean("latin")

    def starts_array(self, letter: LetterClass) -> np.ndarray:
        """Tokens whose first character is a ``native`` (or ``foreign``) letter."""
        return self._clean(f"starts-{letter}")

    def special_array(self) -> np.ndarray:
        """The special tokens (EOS, turn markers): never banned."""
        return self._ids_array(self.table.special)

    def opens_array(self, letter: LetterClass) -> np.ndarray:
        """Tokens whose first character after leading whitespace is a ``native`` (or
        ``foreign``) letter: what may open an answer that must start in a language. A scan
        of the vocabulary, once per compiler."""
        key = (f"opens-{letter}", b"")
        if key not in self._arrays:
            special = self.table.special
            self._arrays[key] = self._ids_array(
                i
                for i, piece in enumerate(self.table.pieces)
                if i not in special and self.first_letter_class(piece.lstrip(b" \t\r\n")) == letter
            )
        return self._arrays[key]

    def scheme_array(self, tail: str = "") -> np.ndarray:
        """Tokens that begin or continue a URL scheme (``https://``, ``www.``) after ``tail``.

        Under ``strict`` prose bans Latin, yet a URL must be able to start there: these
        tokens are let through, and once the scheme is written the URL state allows Latin.
        """
        key = ("scheme", tail.encode())
        if key not in self._arrays:
            ids = [
                i
                for i, text in self._scheme_tokens()
                if _continues_scheme(tail, text if tail else text.lstrip(" "))
            ]
            self._arrays[key] = self._ids_array(ids)
        return self._arrays[key]

    def _ids_array(self, ids: Iterable[int]) -> np.ndarray:
        allowed = np.zeros(len(self.table), dtype=bool)
        allowed[np.fromiter(ids, dtype=np.int64)] = True
        return allowed

    def _load_clean_states(self) -> None:
        """Judge every token for prose and code (about a second each on 262k tokens), or
        load the result from the disk cache."""
        from langlock.decoding import cache

        key = (
            cache.digest(cache.table_fingerprint(self.table), self.rule.key()) if self.cache else ""
        )
        arrays = cache.load_arrays("masks", key) if self.cache else None
        names = ("prose", "code", "latin", "h-or-w", "starts-native", "starts-foreign")
        size = len(self.table)
        if arrays is None or any(
            arrays.get(n, np.empty(0)).shape != ((size + 7) // 8,) for n in names
        ):
            special = self._ids_array(self.table.special)
            built = tuple(np.zeros(size, dtype=bool) for _ in names)
            prose, code, latin, h_or_w, native, foreign = built
            for i, piece in enumerate(self.table.pieces):
                prose[i] = self.token_ok(piece, "prose")
                code[i] = prose[i] or self.token_ok(piece, "code")
                latin[i] = prose[i] and _LATIN.search(piece.decode("utf-8", "ignore")) is not None
                h_or_w[i] = piece.lstrip(b" ")[:1] in (b"h", b"w")  # may start a URL scheme
                first = self.first_letter_class(piece)
                native[i] = first == "native"
                foreign[i] = first == "foreign"
            prose |= special
            code |= special
            for array in (latin, h_or_w, native, foreign):
                array &= ~special
            arrays = {n: np.packbits(a) for n, a in zip(names, built, strict=True)}
            if self.cache:
                cache.save_arrays("masks", key, arrays)
        for name in names:
            self._arrays[(name, b"")] = np.unpackbits(arrays[name], count=size).astype(bool)

    def _scheme_tokens(self) -> list[tuple[int, str]]:
        if self._scheme_candidates is None:
            pieces = self.table.pieces
            self._scheme_candidates = [
                (i, pieces[i].decode("utf-8", "ignore"))
                for i in np.flatnonzero(self._clean("h-or-w")).tolist()
            ]
        return self._scheme_candidates

    def _clean(self, name: str) -> np.ndarray:
        if (name, b"") not in self._arrays:
            self._load_clean_states()
        return self._arrays[(name, b"")]

    def _after_pending(self, mode: Mode, pending: bytes) -> set[int]:
        need = utf8_length(pending[0]) - len(pending)
        if need <= 0:
            return set(self.table.special)
        ok = set(self.table.special)
        pieces = self.table.pieces
        for head, ids in self._continuation_heads().items():
            if len(head) < need:  # the token ends before the character does
                if self._prefix_ok(pending + head, mode):
                    ok.update(i for i in ids if len(pieces[i]) == len(head))
            elif len(head) == need and self.token_ok(head, mode, pending):
                ok.update(i for i in ids if self.token_ok(pieces[i][need:], mode))
        return ok

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
        previous: LetterClass | None = None
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
            if mode == "prose" and not unicodedata.combining(char):
                letter = self.rule.letter_class(char)
                if letter and previous and letter != previous:
                    return False  # a script switch inside a word
                previous = letter
            pos += need
        return True

    def first_letter_class(self, piece: bytes) -> LetterClass | None:
        """The letter class a token starts with. A token that ends inside its first
        character counts when every allowed completion of it agrees (``<0xD0>`` can only
        become a Cyrillic letter); three- and four-byte prefixes are not expanded.

        >>> from langlock.policy import Policy
        >>> m = MaskCompiler(TokenTable((), frozenset(), "sentencepiece"),
        ...                  ScriptRule.from_policy(Policy.from_options()))
        >>> [m.first_letter_class(p) for p in (b"ok", "ж".encode(), b"\\xd0", b"-")]
        ['foreign', 'native', 'native', None]
        """
        if not piece:
            return None
        need = utf8_length(piece[0])
        if 0 < need <= len(piece):
            char = piece[:need].decode("utf-8", "ignore")
            return self.rule.letter_class(char) if char else None
        if need != 2:
            return None
        classes = set()
        for tail in _continuations(1):
            char = (piece[:1] + tail).decode("utf-8", "ignore")
            if char and self.rule.allows(char, "prose"):
                classes.add(self.rule.letter_class(char))
        return classes.pop() if len(classes) == 1 else None

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
