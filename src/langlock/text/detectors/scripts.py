"""``foreign_script`` and ``mixed_script``: letters of scripts the target does not use,
and words mixing native letters with look-alikes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import regex

from langlock.policy import Profile
from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.findings import Finding
from langlock.text.lexicon import zipf
from langlock.text.scripts import letters_of, script_class, script_of, script_runs


@cache
def _alien_scripts(profile: Profile) -> frozenset[str]:
    """Scripts whose letters imitate native ones (Latin and Greek for Russian)."""
    return frozenset(script_of(c) for c in profile.homoglyphs) - profile.scripts


def _word_level_scripts(profile: Profile) -> set[str]:
    """Scripts that are not foreign_script: the target's own, and Latin for a non-Latin
    target (its words get word-level analysis instead)."""
    return set(profile.scripts) | (set() if profile.native_is_latin else {"Latin"})


@cache
def _foreign_run_pattern(profile: Profile) -> regex.Pattern[str]:
    """Runs of letters in scripts the target never uses in prose (spaces inside a run)."""
    excl = "".join(rf"\p{{Script={s}}}" for s in sorted(_word_level_scripts(profile)))
    letter = rf"[\p{{L}}--[{excl}]]"
    word = rf"{letter}[\p{{M}}{letter[1:-1]}]*"
    return regex.compile(rf"(?V1){word}(?:[ ·'’\-]{{1,2}}{word})*")


@cache
def _foreign_letter(profile: Profile) -> re.Pattern[str]:
    r"""A superset of ``_foreign_run_pattern``'s first letter, for a fast stdlib pre-scan:
    any letter or number outside the allowed scripts' ranges (``regex``'s \p{Script} scan
    is several times slower)."""
    ranges = "".join(script_class(s) for s in sorted(_word_level_scripts(profile)))
    return re.compile(f"[^\\W\\d_{ranges}]")


@cache
def _reverse_homoglyphs(profile: Profile) -> dict[str, str]:
    return {v: k for k, v in profile.homoglyphs.items() if script_of(k) == "Latin"}


_TOKEN_CHAR = regex.compile(r"[\p{L}\p{M}]")
#: Native letters read aloud in Latin, to see which English word a hybrid hides
#: («Сandbox» → sandbox, «энтangled» → entangled). Only used to name the hidden word.
_ROMAN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),  # noqa: SIM905
        strict=True,
    )
)
_ROMAN["ъ"] = _ROMAN["ь"] = ""


def _token_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend [start, end) over adjacent letters and marks to the whole word."""
    while start > 0 and _TOKEN_CHAR.match(text[start - 1]):
        start -= 1
    while end < len(text) and _TOKEN_CHAR.match(text[end]):
        end += 1
    return start, end


def romanize(s: str) -> str:
    """Rough Latin reading of native letters (used to find English words hidden in hybrids).

    >>> romanize("фи")
    'fi'
    """
    return "".join(_ROMAN.get(c.lower(), c.lower()) for c in s)


def hidden_english_word(token: str) -> str | None:
    """An English word that a Cyrillic/Latin hybrid spells, if any.

    >>> hidden_english_word("Сandbox"), hidden_english_word("попыткиrebellion")
    ('sandbox', 'rebellion')
    >>> hidden_english_word("Макcвелла") is None
    True
    """
    runs = script_runs(token)
    for idx, (script, s, e) in enumerate(runs):
        if script != "Latin":
            continue
        latin = token[s:e].lower()
        left = token[runs[idx - 1][1] : s] if idx > 0 else ""
        right = token[e : runs[idx + 1][2]] if idx + 1 < len(runs) else ""
        candidates = [latin]
        candidates += [romanize(left[-k:]) + latin for k in range(1, min(3, len(left)) + 1)]
        candidates += [latin + romanize(right[:k]) for k in range(1, min(3, len(right)) + 1)]
        for cand in candidates:
            if len(cand) >= 4 and zipf(cand, "en") >= (2.5 if len(cand) < 7 else 2.0):
                return cand
    return None


def _glued_foreign(token: str) -> str | None:
    """The foreign word glued into a native one: an English word it spells, or a lowercase
    Latin chunk of four letters or more («траanquilito»); None for look-alike letters and
    glued names («орторграммированнымLegendre»).

    >>> _glued_foreign("траanquilito"), _glued_foreign("Макcвелла")
    ('anquilito', None)
    """
    hidden = hidden_english_word(token)
    if hidden:
        return hidden
    for script, s, e in script_runs(token):
        chunk = token[s:e]
        if script == "Latin" and len(chunk) >= 4 and chunk.islower():
            return chunk
    return None


class ScriptDetector(Detector):
    """``foreign_script`` (letters of scripts the target does not use) and ``mixed_script``
    (one word mixing native letters with look-alikes of another script)."""

    kinds = ("foreign_script", "mixed_script", "foreign_word", "wrong_language")

    def find(self, ctx: Context) -> Iterator[Finding]:
        yield from self._foreign_runs(ctx)
        yield from self._mixed_tokens(ctx)

    def _foreign_runs(self, ctx: Context) -> Iterator[Finding]:
        profile, text = ctx.policy.profile, ctx.text
        alien = _alien_scripts(profile)
        by_line: dict[int, int] = {}
        first = _foreign_letter(profile).search(text)
        if first is None:
            return  # the usual case: a cheap stdlib scan proves there is nothing to find
        for m in _foreign_run_pattern(profile).finditer(text, first.start()):
            script = script_of(m.group()[0])
            if script in ctx.requested or ctx.protected(m.start(), m.end()) in ("url", "email"):
                continue
            start, end = _token_bounds(text, m.start(), m.end())
            if script in alien and (start, end) != (m.start(), m.end()):
                continue  # look-alikes inside a native word: mixed_script's business
            if script == "Greek" and self._greek_is_math(m.group()):
                continue
            line = ctx.line(m.start())
            by_line[line] = by_line.get(line, 0) + sum(c.isalpha() for c in m.group())
            yield ctx.finding(
                "foreign_script",
                m.start(),
                m.end(),
                f"{script} characters in a {profile.name} answer: “{m.group()}”",
            )
        yield from self._foreign_lines(ctx, by_line)

    @staticmethod
    def _greek_is_math(run: str) -> bool:
        """Single Greek letters (α, π, Δ) are math symbols, not Greek text."""
        return all(len(part) <= 1 for part in regex.split(r"[ ·'’\-]+", run))

    def _foreign_lines(self, ctx: Context, by_line: dict[int, int]) -> Iterator[Finding]:
        """A line mostly written in foreign script is also a wrong-language line."""
        text = ctx.text
        native_letter = letters_of(ctx.policy.profile.scripts)
        for line, foreign in by_line.items():
            if foreign < 8:
                continue
            s = ctx.line_starts[line - 1]
            e = ctx.line_starts[line] - 1 if line < len(ctx.line_starts) else len(text)
            native = len(native_letter.findall(text, s, e))
            if native < foreign and not ctx.in_code(s, e):
                lead = len(text[s:e]) - len(text[s:e].lstrip())
                yield ctx.finding(
                    "wrong_language",
                    s + lead,
                    e,
                    f"line written mostly in another script instead of {ctx.policy.profile.name}",
                )

    def _mixed_tokens(self, ctx: Context) -> Iterator[Finding]:
        profile, text = ctx.policy.profile, ctx.text
        alien = _alien_scripts(profile)
        native = profile.scripts
        word_end = -1
        for m in _script_seam_pattern(frozenset(native), alien).finditer(text):
            if m.start() < word_end:  # another seam of the word just read: one pass per word
                continue
            start, end = _token_bounds(text, m.start(), m.end())
            word_end = end
            if ctx.protected(start, end):
                continue
            token = text[start:end]
            scripts = {s for s, _, _ in script_runs(token)}
            if not scripts & native or not scripts & alien:
                continue
            yield from self._mixed_token(ctx, start, end, token, scripts)

    def _mixed_token(
        self, ctx: Context, start: int, end: int, token: str, scripts: set[str]
    ) -> Iterator[Finding]:
        profile = ctx.policy.profile
        fix = _homoglyph_fix(token, profile)
        names = " and ".join(sorted(s for s in scripts if s not in ("Inherited", "Other")))
        hidden = None if profile.native_is_latin else _glued_foreign(token)
        yield ctx.finding(
            "mixed_script",
            start,
            end,
            f"word mixes {names} letters: “{token}”" + (f" → “{fix}”" if fix else ""),
            fix=fix,
        )
        if hidden and ctx.policy.reports("foreign_word") and not ctx.allowed_word(hidden):
            yield ctx.finding(
                "foreign_word",
                start,
                end,
                f"foreign word “{hidden}” glued into {profile.name}: “{token}”",
            )


@cache
def _script_seam_pattern(native: frozenset[str], alien: frozenset[str]) -> re.Pattern[str]:
    """Two adjacent letters, one native and one look-alike script: where a mixed word is.

    Searching for the seam, not for every Latin word, keeps clean text cheap.
    """
    nat = "".join(script_class(s) for s in sorted(native))
    ali = "".join(script_class(s) for s in sorted(alien))
    marks = "\u0300-\u036f"
    # Starts with the look-alike class, so re skips native text fast; the lookbehind sees the
    # native letter before it, the lookahead one after it.
    return re.compile(f"[{ali}](?:(?<=[{nat}][{ali}])|(?=[{marks}]*[{nat}]))")


def _homoglyph_fix(token: str, profile: Profile) -> str | None:
    """Certain repair of look-alike letters, or None.

    Native-majority words get native letters back («Макcвелла» → «Максвелла»); an
    alien-majority word gets alien letters only when the result is a known word.

    >>> from langlock.policy import load_profile
    >>> _homoglyph_fix("Макcвелла", load_profile("ru"))
    'Максвелла'
    >>> _homoglyph_fix("Дrunken", load_profile("ru")) is None
    True
    """
    native_count = sum(1 for c in token if script_of(c) in profile.scripts)
    alien_letters = [c for c in token if c.isalpha() and script_of(c) not in profile.scripts]
    if all(c in profile.homoglyphs for c in alien_letters) and native_count >= len(alien_letters):
        return "".join(profile.homoglyphs.get(c, c) for c in token)
    reverse = _reverse_homoglyphs(profile)
    native_letters = [c for c in token if script_of(c) in profile.scripts]
    if reverse and native_letters and all(c in reverse for c in native_letters):
        candidate = "".join(reverse.get(c, c) for c in token)
        if zipf(candidate.lower(), "en") >= 2.5:
            return candidate
    return None
