"""Latin-letter words in the prose of a non-Latin target: names, foreign words, whole
foreign sentences and transliterated Russian.

The decision for each word rests on its shape (acronym, identifier, Title Case, lower
case), word frequencies in the target and in foreign languages (wordfreq), shipped name
lists, the prompt, and its neighbours (a run of words with English function words is a
sentence, not a name).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

import regex

from langlock.text.context import Context
from langlock.text.detectors import Detector
from langlock.text.findings import Finding
from langlock.text.scripts import script_of
from langlock.text.lexicon import (
    LANGUAGE_NAMES,
    best_foreign_language,
    english_stopwords,
    is_known_name,
    zipf,
)

if TYPE_CHECKING:
    from langlock.text.translit import TranslitDetector

#: A Latin word: letters with inner apostrophes or hyphens (don't, state-of-the-art).
_WORD = regex.compile(
    r"\p{Latin}[\p{Latin}\p{M}]*(?:['’\-]\p{Latin}[\p{Latin}\p{M}]*)*(?:['’](?![\p{L}\p{N}]))?"
)
#: A native inflection hyphenated to a Latin word: «prompt-а», «iPhone'а».
_SUFFIX = regex.compile(r"[-'’][\p{L}--\p{Latin}]{1,4}\b", regex.V1)
#: What may stand between two words of one Latin run.
_RUN_GAP = regex.compile(r"[ \t,:;«»\"'“”„*/&!?.]{1,4}")
#: Ordinary English word: frequent in English, clearly rarer in the target's own texts
#: (names and borrowed tech words show up in Russian text too, which narrows the gap).
COMMON_ZIPF = 3.0
BORROWED_GAP = 1.0
LONE_WORD_MIN = 4
#: Words that may join a title without breaking it ("World of Warcraft").
_TITLE_JOINERS = frozenset({"of", "and", "the", "for", "in", "to", "on", "a", "an", "de", "la"})
_UNIT_BEFORE = regex.compile(r"\d[\s\u00a0]?$")


@dataclass
class Word:
    """One Latin word of the prose, with what its neighbours say about it."""

    start: int
    end: int
    text: str
    glued: bool  # touches a digit, an underscore or a non-Latin letter

    @cached_property
    def low(self) -> str:
        return self.text.casefold()

    @property
    def is_title(self) -> bool:
        return self.text[:1].isupper() and self.text[1:] == self.text[1:].lower()

    @property
    def is_lower(self) -> bool:
        return self.text == self.text.lower()

    @property
    def is_identifier(self) -> bool:
        """Acronyms, CamelCase, words stuck to digits: names or code, never a common word."""
        t = self.text
        if self.glued or len(t) == 1:
            return True
        letters = [c for c in t if c.isalpha()]
        upper = sum(c.isupper() for c in letters)
        return upper > 1 or (upper == 1 and not t[0].isupper())

    @property
    def is_stopword(self) -> bool:
        return self.low in english_stopwords()


def common_foreign(word: str, target_wordfreq: str) -> bool:
    """An ordinary English dictionary word rather than a name or a borrowed tech term.

    >>> common_foreign("pipeline", "ru"), common_foreign("docker", "ru")
    (True, False)
    """
    low = word.casefold()
    en = zipf(low, "en")
    if en < COMMON_ZIPF or is_known_name(low):
        return False
    for part in low.split("-"):
        if part and len(part) > 2 and zipf(part, "en") < 2.0:
            return False
    return en - zipf(low, target_wordfreq) >= BORROWED_GAP


class LatinWordDetector(Detector):
    """``foreign_word``, ``wrong_language`` and ``translit`` for Latin words in prose of a
    target that is not written in Latin."""

    kinds = ("foreign_word", "wrong_language", "translit")

    def find(self, ctx: Context) -> Iterator[Finding]:
        if ctx.policy.profile.native_is_latin:
            return
        runs = self._runs(ctx)
        if not runs:
            return
        if ctx.policy.preset.latin_words == "all":
            yield from self._strict(ctx, runs)
            yield from self._foreign_lines(ctx, runs)
            return
        line_findings = list(self._foreign_lines(ctx, runs))
        yield from line_findings
        if ctx.policy.preset.latin_words == "none":
            return
        leftover: list[Word] = []
        for run in runs:
            found = list(self._run_findings(ctx, run))
            yield from found
            if not found:
                leftover += [w for w in run if not w.is_identifier and not ctx.allowed_word(w.text)]
        if ctx.policy.reports("translit") and "Latin" not in ctx.requested:
            yield from self._translit(ctx, leftover)

    # -- words and runs

    def _runs(self, ctx: Context) -> list[list[Word]]:
        text = ctx.text
        runs: list[list[Word]] = []
        prev_end = -10
        for m in _WORD.finditer(text):
            s, e = m.span()
            if ctx.protected(s, e):
                prev_end = -10
                continue
            before = text[s - 1] if s else " "
            after = text[e] if e < len(text) else " "
            glued = _glued(before) or _glued(after)
            if glued and (before.isalpha() or after.isalpha()):
                continue  # a hybrid token: mixed_script/foreign_word of ScriptDetector
            word = Word(s, e, m.group(), glued)
            if _UNIT_BEFORE.search(text, max(0, s - 2), s) and len(word.text) <= 4:
                word.glued = True  # 5 GHz, 10 kg: units
            gap_ok = prev_end >= 0 and _RUN_GAP.fullmatch(text, prev_end, s) is not None
            if runs and gap_ok:
                runs[-1].append(word)
            else:
                runs.append([word])
            prev_end = e
        return runs

    # -- whole lines in another language

    def _foreign_lines(self, ctx: Context, runs: list[list[Word]]) -> Iterator[Finding]:
        """Lines whose prose is mostly Latin words of another language: ``wrong_language``."""
        profile = ctx.policy.profile
        by_line: dict[int, list[Word]] = {}
        for run in runs:
            for w in run:
                by_line.setdefault(ctx.line(w.start), []).append(w)
        text = ctx.text
        for line, words in by_line.items():
            s = ctx.line_starts[line - 1]
            e = ctx.line_starts[line] - 1 if line < len(ctx.line_starts) else len(text)
            latin = sum(w.end - w.start for w in words)
            native = sum(1 for c in text[s:e] if c.isalpha()) - latin
            if latin < 2 * max(native, 1) or not self._is_sentence(ctx, words):
                continue
            lang, _ = best_foreign_language([w.text for w in words], profile.foreign_lexicons)
            if lang in ctx.requested or "Latin" in ctx.requested:
                continue
            yield ctx.finding(
                "wrong_language",
                words[0].start,
                words[-1].end,
                f"{LANGUAGE_NAMES.get(lang, lang)} text instead of {profile.name}",
            )

    def _is_sentence(self, ctx: Context, words: list[Word]) -> bool:
        """Ordinary words or function words, not only names, titles and identifiers."""
        if len(words) < 2:
            return False
        wf = ctx.policy.profile.wordfreq
        stops = sum(w.is_stopword for w in words)
        common = sum(
            1
            for w in words
            if w.is_lower
            and not w.is_stopword
            and not ctx.allowed_word(w.text)
            and common_foreign(w.text, wf)
        )
        if common >= 1 and (stops >= 1 or common >= 2 or len(words) <= 3):
            return True
        lower_stops = sum(w.is_stopword and w.is_lower and w.low not in _TITLE_JOINERS for w in words)
        return stops >= 3 or lower_stops >= 2

    # -- runs inside native prose

    def _run_findings(self, ctx: Context, run: list[Word]) -> Iterator[Finding]:
        profile = ctx.policy.profile
        wf = profile.wordfreq
        if "en" in ctx.requested:
            return
        if len(run) >= 3:
            lang, _ = best_foreign_language([w.text for w in run], profile.foreign_lexicons)
            if lang in ctx.requested:
                return
        stops = [w for w in run if w.is_stopword and w.is_lower]
        if len(run) >= 4 and len(stops) >= 2:
            lang, _ = best_foreign_language([w.text for w in run], profile.foreign_lexicons)
            if lang not in ctx.requested:
                yield ctx.finding(
                    "wrong_language",
                    run[0].start,
                    run[-1].end,
                    f"{LANGUAGE_NAMES.get(lang, lang)} clause inside {profile.name} prose",
                )
            return
        flagged = [
            w
            for w in run
            if not w.is_identifier
            and not ctx.allowed_word(w.text)
            and w.is_lower
            and common_foreign(w.text, wf)
        ]
        if len(flagged) == 1 and len(flagged[0].text) < LONE_WORD_MIN:
            return  # "r/aws", "bug": too short to call a word on its own
        if not flagged:
            return
        if any(w.is_title for w in run) and all(
            w.is_title or w.is_identifier or w.low in _TITLE_JOINERS for w in run
        ):
            return  # Title Case with joiners: a name ("World of Warcraft")
        start, end = run[0].start, run[-1].end
        suffix = _SUFFIX.match(ctx.text, end)
        if suffix:
            end = suffix.end()
        gloss = self._is_gloss(ctx, start, end, run)
        severity = "major" if not gloss or ctx.policy.preset.gloss_major else "minor"
        what = "parenthesised foreign gloss" if gloss else "foreign word in prose"
        yield ctx.finding(
            "foreign_word",
            start,
            end,
            f"{what} in {profile.name} text: “{ctx.text[start:end]}”",
            severity=severity,
        )

    @staticmethod
    def _is_gloss(ctx: Context, start: int, end: int, run: list[Word]) -> bool:
        """``внимание (attention)``: a short translation in parentheses after native text."""
        text = ctx.text
        before = text[:start].rstrip()
        after = text[end:].lstrip()
        if not before.endswith("(") or not after.startswith(")") or len(run) > 5:
            return False
        if any(w.is_stopword and w.low not in _TITLE_JOINERS for w in run):
            return False
        prev = before[:-1].rstrip(" *_»\"'”")
        return bool(prev) and (prev[-1].isalpha() or prev[-1] == ")") and not prev[-1].isascii()

    # -- strict: every Latin letter

    def _strict(self, ctx: Context, runs: list[list[Word]]) -> Iterator[Finding]:
        for run in runs:
            words = [w for w in run if not ctx.allowed_word(w.text) and not w.glued]
            if words and not all(len(w.text) == 1 for w in words):
                yield ctx.finding(
                    "foreign_word",
                    words[0].start,
                    words[-1].end,
                    f"Latin letters in {ctx.policy.profile.name} prose (strict preset): "
                    f"“{ctx.text[words[0].start : words[-1].end]}”",
                )

    # -- transliterated target language

    def _translit(self, ctx: Context, words: list[Word]) -> Iterator[Finding]:
        profile = ctx.policy.profile
        if not profile.transliteration or not words:
            return
        detector = _translit_detector(profile.transliteration)
        for hit in detector.find([(w.start, w.end, w.text) for w in words]):
            yield ctx.finding(
                "translit",
                hit.start,
                hit.end,
                f"{profile.name} written in Latin letters: “{hit.text}” → “{hit.cyrillic}”",
                fix=hit.cyrillic,
            )


def _glued(ch: str) -> bool:
    return ch.isdigit() or ch == "_" or (ch.isalpha() and not ch.isascii() and _is_nonlatin(ch))


def _is_nonlatin(ch: str) -> bool:
    return script_of(ch) != "Latin"


@cache
def _translit_detector(lang: str) -> TranslitDetector:
    from langlock.text.translit import TranslitDetector

    return TranslitDetector(lang)
