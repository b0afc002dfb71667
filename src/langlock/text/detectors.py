"""Detectors: one class per kind of evidence, each turning a Context into Findings.

Every detector scans with precompiled regular expressions first, so clean text costs a
few C-level passes; Python-level work happens only where something suspicious was found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import regex

from langlock.policy import Profile
from langlock.text.context import Context
from langlock.text.findings import Finding
from langlock.text.lexicon import LANGUAGE_NAMES, is_native_word, zipf
from langlock.text.scripts import letters_of, script_class, script_of, script_runs
from langlock.text.tokens import INVISIBLE_CLASS, special_patterns


class Detector:
    """One step of the checker: ``find(ctx)`` yields findings of the kinds it owns."""

    kinds: tuple[str, ...] = ()

    def find(self, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError


# --------------------------------------------------------------------------- special tokens


class SpecialTokenDetector(Detector):
    """Leaked chat-template tokens (``<|im_end|>``, ``<end_of_turn>``, ``### Response:``)."""

    kinds = ("special_token",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        text = ctx.text
        everywhere, prose_only = special_patterns()
        for pattern, first in everywhere:
            if first in text:
                for m in pattern.finditer(text):
                    yield self._finding(ctx, m)
        for pattern, first in prose_only:
            if first in text:
                for m in pattern.finditer(text):
                    if not ctx.in_code(m.start(), m.end()):
                        yield self._finding(ctx, m)

    @staticmethod
    def _finding(ctx: Context, m: re.Match[str]) -> Finding:
        return ctx.finding(
            "special_token",
            m.start(),
            m.end(),
            f"leaked chat-template token “{m.group()}”",
            fix="",
        )


# ------------------------------------------------------------------------------- invisible

_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]+")
_EMOJI_SIDE = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f\u20e3]")


def _is_emoji_joiner(text: str, i: int) -> bool:
    """A zero-width joiner between two emoji (👩‍💻) is part of the emoji, not a finding."""
    return (
        text[i] == "\u200d"
        and 0 < i < len(text) - 1
        and bool(_EMOJI_SIDE.match(text[i - 1]))
        and bool(_EMOJI_SIDE.match(text[i + 1]))
    )


def char_label(ch: str) -> str:
    """Readable name of an invisible character.

    >>> char_label("\\u200b")
    'U+200B ZERO WIDTH SPACE'
    """
    fallback = "LONE SURROGATE" if unicodedata.category(ch) == "Cs" else "CONTROL CHARACTER"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


class InvisibleDetector(Detector):
    """Zero-width, direction-control, other control characters and U+FFFD."""

    kinds = ("invisible",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        text = ctx.text
        for m in _INVISIBLE.finditer(text):
            start = m.start()
            for i in range(m.start(), m.end() + 1):
                if i == m.end() or _is_emoji_joiner(text, i):
                    if i > start:
                        yield self._finding(ctx, start, i)
                    start = i + 1

    @staticmethod
    def _finding(ctx: Context, start: int, end: int) -> Finding:
        labels = sorted({char_label(c) for c in ctx.text[start:end]})
        return ctx.finding(
            "invisible", start, end, "invisible character " + ", ".join(labels), fix=""
        )


# --------------------------------------------------------------------------------- mojibake


class MojibakeDetector(Detector):
    """Text decoded with the wrong encoding, with its repair (see ``text.mojibake``)."""

    kinds = ("mojibake",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        from langlock.text.mojibake import find_mojibake

        alphabet = ctx.policy.profile.alphabet
        for span in find_mojibake(ctx.text, alphabet):
            if ctx.protected(span.start, span.end) in ("code", "url", "path", "email"):
                continue
            yield ctx.finding(
                "mojibake",
                span.start,
                span.end,
                f"mojibake ({span.explanation}): “{span.text}” → “{span.fixed}”",
                fix=span.fixed,
            )


# ------------------------------------------------------------------------------ repetition

_WORD = regex.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class RepetitionDetector(Detector):
    """Degenerate loops: the same line again and again, or one phrase looping in a line.

    Outside code and tables, three identical lines in a row with a letter or digit in them
    are a loop; lines of symbols only (rules, ASCII art) at ``long_run`` copies.
    """

    min_run: int = 3
    long_run: int = 10
    paragraph: int = 40
    phrase_repeats: int = 4
    max_ngram: int = 8
    kinds = ("repetition",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        yield from self._line_loops(ctx)
        yield from self._phrase_loops(ctx)

    def _line_loops(self, ctx: Context) -> Iterator[Finding]:
        text, starts = ctx.text, ctx.line_starts
        keys = [line.strip() for line in text.split("\n")]
        filled = [k for k in keys if k]
        if len(set(filled)) == len(filled):
            return  # no non-blank line occurs twice: no loop
        run: list[int] = []
        run_key = ""
        gap = False
        for idx, key in enumerate([*keys, None]):
            if key == "":
                gap = True
                continue
            # A blank line ends a run of short lines (a song's refrain), not of paragraphs.
            if key == run_key and (not gap or len(key) >= self.paragraph):
                run.append(idx)
                gap = False
                continue
            if len(run) >= self.min_run and self._is_loop(ctx, run_key, run):
                last = run[-1]
                last_end = starts[last + 1] - 1 if last + 1 < len(starts) else len(text)
                yield ctx.finding(
                    "repetition",
                    starts[run[1]],
                    last_end,
                    f"degenerate loop: the line “{_short(run_key)}” repeats {len(run)} times",
                )
            run_key, run, gap = key or "", ([idx] if key else []), False

    def _is_loop(self, ctx: Context, key: str, run: list[int]) -> bool:
        start = ctx.line_starts[run[0]]
        if key.startswith("|") or ctx.in_code(start, start + 1):
            return False  # POLICY.md: tables and code repeat rows by design
        if len(run) >= self.long_run:
            return True
        return len(run) >= self.min_run and any(c.isalnum() for c in key)

    def _phrase_loops(self, ctx: Context) -> Iterator[Finding]:
        text, starts = ctx.text, ctx.line_starts
        for i, s in enumerate(starts):
            e = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
            if e - s < 40:
                continue
            plain = text[s:e].split()
            if len(plain) < 8 or len(set(plain)) * 2 > len(plain):
                continue  # mostly distinct words: no loop (cheap test before the regex)
            words = list(_WORD.finditer(text, s, e))
            if len(words) < 8 or len({w.group().casefold() for w in words}) > len(words) // 2:
                continue
            found = self._loop_in(words)
            if found and not ctx.in_code(found[0], found[1]):
                a, b, phrase, times = found
                yield ctx.finding(
                    "repetition", a, b, f"degenerate loop: “{_short(phrase)}” repeats {times} times"
                )

    def _loop_in(self, words: list[regex.Match[str]]) -> tuple[int, int, str, int] | None:
        keys = [w.group().casefold() for w in words]
        for n in range(1, self.max_ngram + 1):
            need = self.phrase_repeats + (2 if n == 1 else 0)
            i = 0
            while i + n * need <= len(keys):
                times = 1
                while keys[i + times * n : i + (times + 1) * n] == keys[i : i + n]:
                    times += 1
                if times >= need:
                    phrase = " ".join(keys[i : i + n])
                    return words[i + n].start(), words[i + times * n - 1].end(), phrase, times
                i += 1
        return None


def _short(s: str, limit: int = 40) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


# ------------------------------------------------------------------- scripts: foreign, mixed


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
        seen: set[tuple[int, int]] = set()
        for m in _script_seam_pattern(frozenset(native), alien).finditer(text):
            start, end = _token_bounds(text, m.start(), m.end())
            if (start, end) in seen or ctx.protected(start, end):
                continue
            seen.add((start, end))
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


# --------------------------------------------------------------- sister languages (Cyrillic)


@cache
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


@cache
def _leading_classes(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One class of the characters the patterns start with, for a fast pre-scan; None when
    a pattern does not start with a plain class.

    >>> _leading_classes(("[іє]", "[ъ](?![е])")).pattern
    '[ієъ]'
    """
    heads = [re.match(r"\[([^\]\\^]+)\]", p) for p in patterns]
    if not all(heads):
        return None
    return re.compile("[" + "".join(h.group(1) for h in heads if h) + "]")


_CYR_WORD = regex.compile(r"\p{Cyrillic}[\p{Cyrillic}\p{M}'’]*")


class SisterLanguageDetector(Detector):
    """Lines in a language that shares the target's script (Ukrainian in Russian, …).

    Triggered by the profile's signs of a sister language (letters the target lacks: і, ї,
    є, ґ in Russian text; ы, э, ё, ъ in Ukrainian; Bulgarian ъ before a consonant); decided
    by the target's morphological dictionary: a line where many words are unknown to it is
    ``wrong_language``; a lone such word is a ``foreign_word``.
    """

    kinds = ("wrong_language", "foreign_word")

    def find(self, ctx: Context) -> Iterator[Finding]:
        profile = ctx.policy.profile
        if not profile.sister_signs or profile.native_is_latin:
            return
        signs = tuple(profile.sister_signs.values())
        text = ctx.text
        first = _leading_classes(signs)
        if first is not None and not first.search(text):
            return  # the usual case, found by one cheap class scan
        trigger = _any_of(signs)
        lines = sorted({ctx.line(m.start()) for m in trigger.finditer(text)})
        for line_no in lines:
            s = ctx.line_starts[line_no - 1]
            e = ctx.line_starts[line_no] - 1 if line_no < len(ctx.line_starts) else len(text)
            if ctx.in_code(s, e):
                continue
            words = [m for m in _CYR_WORD.finditer(text, s, e) if not ctx.protected(*m.span())]
            foreign = [m for m in words if self._not_native(m.group(), profile)]
            # Sister languages share many words, so 40% unknown words already mark a line.
            if len(words) >= 3 and len(foreign) >= 2 and len(foreign) * 5 >= len(words) * 2:
                lang = self._which(text[s:e], profile)
                yield ctx.finding(
                    "wrong_language",
                    words[0].start(),
                    words[-1].end(),
                    f"{LANGUAGE_NAMES.get(lang, lang)} text instead of {profile.name}",
                )
            elif ctx.policy.reports("foreign_word"):
                for m in foreign:
                    if trigger.search(m.group()):
                        yield ctx.finding(
                            "foreign_word",
                            m.start(),
                            m.end(),
                            f"word from another Cyrillic language: “{m.group()}”",
                        )

    @staticmethod
    def _not_native(word: str, profile: Profile) -> bool:
        return not is_native_word(word, profile.morphology, profile.wordfreq)

    @staticmethod
    def _which(line: str, profile: Profile) -> str:
        for lang, sign in profile.sister_signs.items():
            if _any_of((sign,)).search(line):
                return lang
        return profile.sister_languages[0] if profile.sister_languages else "?"
