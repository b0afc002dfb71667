"""Latin-letter words in the prose of a non-Latin target: names, foreign words, whole
foreign sentences and transliterated Russian.

The decision for each word rests on its shape (acronym, identifier, Title Case, lower
case), word frequencies in the target and in foreign languages (wordfreq), shipped name
lists, the prompt, and its neighbours (a run of words with English function words is a
sentence, not a name).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import regex

from langlock.policy import language_name
from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.findings import Finding
from langlock.text.lexicon import (
    best_foreign_language,
    english_stopwords,
    english_title_words,
    is_known_name,
    zipf,
)
from langlock.text.scripts import letters_of, script_class, script_of

if TYPE_CHECKING:
    from langlock.text.detectors.translit import TranslitDetector

_L = script_class("Latin")
_M = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
#: A Latin word: letters with inner apostrophes or hyphens (don't, state-of-the-art), and a
#: closing apostrophe of a soft sign (delat'). Stdlib re over explicit ranges: several
#: times faster here than regex's \p{Latin}.
_WORD_PATTERN = rf"[{_L}][{_L}{_M}]*(?:['’\-][{_L}][{_L}{_M}]*)*(?:['’](?![^\W\d_]|\d))?"
_WORD = re.compile(_WORD_PATTERN)
#: A native inflection hyphenated to a Latin word: «prompt-а», «iPhone'а».
_SUFFIX = regex.compile(r"[-'’][\p{L}--\p{Latin}]{1,4}\b", regex.V1)
#: What may stand between two words of one Latin run.
_GAP = r"[ \t,:;«»\"'“”„*/&!?.]{1,4}"
_RUN = re.compile(rf"{_WORD_PATTERN}(?:{_GAP}{_WORD_PATTERN})*")
#: Ordinary English word: frequent in English, clearly rarer in the target's own texts
#: (names and borrowed tech words show up in Russian text too, which narrows the gap).
COMMON_ZIPF = 3.0
BORROWED_GAP = 1.0
LONG_WORD, LONG_WORD_ZIPF, LONG_WORD_GAP = 8, 2.0, 1.5
LONE_WORD_MIN = 4
#: A Latin run this long with English function words is a clause (wrong_language); a
#: shorter one is a foreign phrase (foreign_word), as in «if you have any concerns».
CLAUSE_WORDS = 8
#: Words that may join a title without breaking it ("World of Warcraft").
_TITLE_JOINERS = frozenset({"of", "and", "the", "for", "in", "to", "on", "a", "an", "de", "la"})
#: A word that starts with two lower-case letters: the only kind a common word can be,
#: apart from the English words that are never names (see ``_may_hold_word``).
_LOWER_WORD = re.compile(r"(?<![^\W\d_])[a-z\u00df-\u00ff]{2}")
_UNIT_BEFORE = re.compile(r"\d[\s\u00a0]?\Z")


class Word:
    """One Latin word of the prose and the shape facts every rule asks about.

    Computed once in the constructor: the detector looks at tens of thousands of words
    per megabyte of technical text.

    >>> w = Word(0, 6, "iPhone", glued=False)
    >>> w.is_identifier, w.is_title, w.is_lower
    (True, False, False)
    """

    __slots__ = (
        "end",
        "glued",
        "is_identifier",
        "is_lower",
        "is_stopword",
        "is_title",
        "low",
        "start",
        "text",
    )

    def __init__(self, start: int, end: int, text: str, glued: bool) -> None:
        self.start, self.end, self.text, self.glued = start, end, text, glued
        self.low, self.is_lower, self.is_title, self.is_stopword, mixed = _shape(text)
        self.is_identifier = glued or mixed

    def glue(self) -> None:
        """Mark as stuck to a number or code (units, identifiers): never a common word."""
        self.glued = self.is_identifier = True


@lru_cache(maxsize=200_000)
def _shape(text: str) -> tuple[str, bool, bool, bool, bool]:
    """(casefolded, lower case, Title Case, English stopword, identifier-shaped) of a word.

    Identifier-shaped: one letter (x, n), acronyms and CamelCase (GPU, iPhone).

    >>> _shape("iPhone")
    ('iphone', False, False, False, True)
    """
    low = text.casefold()
    upper = sum(1 for c in text if c.isupper())
    mixed = len(text) == 1 or upper > 1 or (upper == 1 and not text[0].isupper())
    return low, text == low, upper == 1 and text[0].isupper(), low in english_stopwords(), mixed


@lru_cache(maxsize=200_000)
def common_foreign(word: str, target_wordfreq: str) -> bool:
    """An ordinary English dictionary word rather than a name or a borrowed tech term.

    >>> common_foreign("pipeline", "ru"), common_foreign("docker", "ru")
    (True, False)
    """
    low = word.casefold()
    en = zipf(low, "en")
    # Long words are rarely accidental: a rarer one (hallucinate, refactoring) counts when
    # Russian text hardly ever borrows it.
    long_word = len(low) >= LONG_WORD and en >= LONG_WORD_ZIPF
    if (en < COMMON_ZIPF and not long_word) or is_known_name(low):
        return False
    for part in low.split("-"):
        if part and len(part) > 2 and zipf(part, "en") < 2.0:
            return False
    gap = BORROWED_GAP if en >= COMMON_ZIPF else LONG_WORD_GAP
    return en - zipf(low, target_wordfreq) >= gap


class LatinWordDetector(Detector):
    """``foreign_word``, ``wrong_language`` and ``translit`` for Latin words in prose of a
    target that is not written in Latin."""

    kinds = ("foreign_word", "wrong_language", "translit")

    def find(self, ctx: Context) -> Iterator[Finding]:
        if ctx.policy.profile.native_is_latin:
            return
        spans = self._run_spans(ctx)
        if not spans:
            return
        line_findings = self._foreign_lines(ctx, spans)
        yield from line_findings
        if ctx.policy.preset.latin_words == "all":
            yield from self._strict(
                ctx, [r for r in (self._words(ctx, s, e) for s, e in spans) if r]
            )
            return
        if ctx.policy.preset.latin_words == "none":
            return
        foreign_lines = {f.line for f in line_findings}
        leftover: list[Word] = []
        text = ctx.text
        for s, e in spans:
            # Runs of names, acronyms and identifiers only (most of them) cannot hold a
            # common word: skip them before building words.
            if not _may_hold_word().search(text, s, e):
                continue
            if foreign_lines and ctx.line(s) in foreign_lines and _long_run(ctx.text, s, e):
                continue  # the wrong-language line itself; its asides are still looked at
            run = self._words(ctx, s, e)
            if not run or self._requested_language(ctx, run):
                continue
            found = list(self._run_findings(ctx, run))
            yield from found
            if not found:
                leftover += [w for w in run if not w.is_identifier and not ctx.allowed_word(w.text)]
        if ctx.policy.reports("translit") and "Latin" not in ctx.requested:
            yield from self._translit(ctx, leftover)

    # -- words and runs

    @staticmethod
    def _run_spans(ctx: Context) -> list[tuple[int, int]]:
        """Runs of neighbouring Latin words outside protected regions, as spans."""
        text = ctx.text
        return [
            r.span()
            for gap_start, gap_end in ctx.unprotected()
            for r in _RUN.finditer(text, gap_start, gap_end)
        ]

    def _words(self, ctx: Context, start: int, end: int) -> list[Word]:
        """The words of one run (built once per check, kept on the context)."""
        key = ("latin-run", start, end)
        if key not in ctx.memo:
            ctx.memo[key] = self._build_words(ctx.text, start, end)
        return ctx.memo[key]  # type: ignore[no-any-return]

    @staticmethod
    def _build_words(text: str, start: int, end: int) -> list[Word]:
        """Only a run's first and last word can touch a digit or a letter of another
        script, so only they are looked at closely."""
        # findall + str.find: strings are cheaper to make than match objects.
        words, pos = [], start
        for w in _WORD.findall(text, start, end):
            pos = text.find(w, pos)
            words.append(Word(pos, pos + len(w), w, False))
            pos += len(w)
        first, last = words[0], words[-1]
        before = text[first.start - 1] if first.start else " "
        after = text[last.end] if last.end < len(text) else " "
        if _glued(before):
            if before.isalpha():
                words.pop(0)  # a hybrid token: ScriptDetector's business
            else:
                first.glue()
        elif len(first.text) <= 4 and _UNIT_BEFORE.search(
            text, max(0, first.start - 2), first.start
        ):
            first.glue()  # 5 GHz, 10 kg: units
        if words and _glued(after):
            if after.isalpha():
                words.pop()
            else:
                words[-1].glue()
        return words

    # -- whole lines in another language

    def _foreign_lines(self, ctx: Context, spans: list[tuple[int, int]]) -> list[Finding]:
        """Lines whose prose is mostly Latin words of another language: ``wrong_language``.

        Works on word strings (``findall``), not ``Word`` objects: English answers have
        thousands of such lines, and a line needs only counts.
        """
        profile, text, starts = ctx.policy.profile, ctx.text, ctx.line_starts
        found = []
        i, n = 0, len(spans)
        while i < n:
            line = bisect_right(starts, spans[i][0])
            s = starts[line - 1]
            e = starts[line] - 1 if line < len(starts) else len(text)
            j, latin = i, 0  # latin counts the gaps between words too: an upper bound
            while j < n and spans[j][0] < e:
                latin += spans[j][1] - spans[j][0]
                j += 1
            line_spans, i = spans[i:j], j
            if latin * 4 < e - s or (text.startswith("|", s, e) and text.count("|", s, e) > 1):
                continue  # too little Latin for a Latin line, or a table row of terms
            native = len(letters_of(profile.scripts).findall(text, s, e))
            if latin < 2 * max(native, 1):
                continue
            words = [w for a, b in line_spans for w in _WORD.findall(text, a, b)]
            if sum(map(len, words)) < 2 * max(native, 1) or not self._is_sentence(ctx, words):
                continue
            lang, _ = best_foreign_language(words, profile.foreign_lexicons)
            if lang in ctx.requested or "Latin" in ctx.requested:
                continue
            found.append(
                ctx.finding(
                    "wrong_language",
                    line_spans[0][0],
                    line_spans[-1][1],
                    f"{language_name(lang)} text instead of {profile.name}",
                )
            )
        return found

    @staticmethod
    def _is_sentence(ctx: Context, words: list[str]) -> bool:
        """Ordinary words or function words, not only names, titles and identifiers."""
        if len(words) < 2:
            return False
        wf = ctx.policy.profile.wordfreq
        shapes = [_shape(w) for w in words]  # (casefolded, lower, title, stopword, ident)
        stops = sum(1 for sh in shapes if sh[3])
        common = sum(
            1
            for w, sh in zip(words, shapes, strict=True)
            # The prompt's and the code's words are allowed as words, not as sentences.
            if sh[1] and not sh[3] and common_foreign(w, wf) and sh[0] not in ctx.policy.allow
        )
        if common >= 1 and (stops >= 1 or common >= 2 or len(words) <= 3):
            return True
        lower_stops = sum(1 for sh in shapes if sh[3] and sh[1] and sh[0] not in _TITLE_JOINERS)
        return lower_stops >= 2  # "The Dark Side of the Moon" is a title, not a sentence

    # -- runs inside native prose

    @staticmethod
    def _requested_language(ctx: Context, run: list[Word]) -> bool:
        """A run in a language the prompt asked for (the Spanish anthem it requested)."""
        langs = ctx.policy.profile.foreign_lexicons
        asked = ctx.requested.intersection(langs)
        if not asked or len(run) < 3:
            return False
        return best_foreign_language([w.text for w in run], langs)[0] in asked

    def _run_findings(self, ctx: Context, run: list[Word]) -> Iterator[Finding]:
        profile = ctx.policy.profile
        wf = profile.wordfreq
        if "en" in ctx.requested:
            return
        stops = [w for w in run if w.is_stopword and w.is_lower]
        if len(run) >= CLAUSE_WORDS and len(stops) >= 2:
            lang, _ = best_foreign_language([w.text for w in run], profile.foreign_lexicons)
            if lang not in ctx.requested:
                yield ctx.finding(
                    "wrong_language",
                    run[0].start,
                    run[-1].end,
                    f"{language_name(lang)} clause inside {profile.name} prose",
                )
            return
        if len(run) == 1 and self._named_identifier(ctx, run[0]):
            return
        flagged = [
            w
            for w in run
            if not w.is_identifier
            and not ctx.allowed_word(w.text)
            and ((w.is_lower and common_foreign(w.text, wf)) or w.low in english_title_words())
        ]
        if len(flagged) == 1 and len(flagged[0].text) < LONE_WORD_MIN:
            return  # "r/aws", "bug": too short to call a word on its own
        if not flagged:
            return
        if any(w.is_title for w in run) and all(
            (w.is_title and w.low not in english_title_words())
            or w.is_identifier
            or w.low in _TITLE_JOINERS
            for w in run
        ):
            return  # Title Case with joiners: a name ("World of Warcraft")
        start, end = run[0].start, run[-1].end
        gloss = self._is_gloss(ctx, start, end, run)
        if not gloss and len(flagged) < len(run) and not any(w.is_stopword for w in run):
            start, end = flagged[0].start, flagged[-1].end  # not a phrase: just the words
        suffix = _SUFFIX.match(ctx.text, end)
        if suffix:
            end = suffix.end()
        severity = "major" if not gloss or ctx.policy.preset.gloss_major else "minor"
        what = "parenthesised foreign gloss" if gloss else "foreign word"
        yield ctx.finding(
            "foreign_word",
            start,
            end,
            f"{what} in {profile.name} prose: “{ctx.text[start:end]}”",
            severity=severity,
        )

    @staticmethod
    def _named_identifier(ctx: Context, word: Word) -> bool:
        """``ключ "name"``, ``параметр timeout``, ``кнопку "Save"``: a word that a noun right
        before it names as an identifier (in quotes, up to two words back; bare, the word
        right before)."""
        text, cues = ctx.text, ctx.policy.profile.identifier_cues
        if not cues or word.start == 0:
            return False
        after = text[word.end : word.end + 1]
        quoted = text[word.start - 1] in "\"'«“`" and after in ('"', "'", "»", "”", "`")
        before = text[max(0, word.start - 30) : word.start].casefold().split()
        if not before or (not quoted and (not before[-1].isalpha() or "-" in word.text)):
            return False  # bare, only a plain token names code: «метод fit», not «fine-tuning»
        nouns = before[-2:] if quoted else before[-1:]
        return any(w.strip("\"'«“`").startswith(cues) for w in nouns)

    @staticmethod
    def _is_gloss(ctx: Context, start: int, end: int, run: list[Word]) -> bool:
        """``внимание (attention)``: a short translation in parentheses after native text."""
        text = ctx.text
        before = text[max(0, start - 40) : start].rstrip()
        marker = _gloss_marker(ctx.policy.profile.gloss_markers).search(before)
        if marker:
            before = before[: marker.start() + 1]  # keep the "(" of "(англ. attention)"
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
def _gloss_marker(markers: tuple[str, ...]) -> re.Pattern[str]:
    """``(англ. …``: the abbreviation that may open a gloss, at the end of the text before it."""
    alternatives = "|".join(re.escape(m) for m in markers) or "(?!)"
    return re.compile(rf"\((?:\s*(?:{alternatives}))+\s*$", re.I)


def _long_run(text: str, start: int, end: int) -> bool:
    """A run of ``CLAUSE_WORDS`` words or more: a clause, not an aside."""
    return len(_WORD.findall(text, start, end)) >= CLAUSE_WORDS


@cache
def _may_hold_word() -> re.Pattern[str]:
    """A word starting with two lower-case letters, or a never-a-name English word in Title
    Case or capitals ("Korean", "HELLO")."""
    words = sorted(english_title_words())
    names = "|".join([w.capitalize() for w in words] + [w.upper() for w in words])
    return re.compile(rf"{_LOWER_WORD.pattern}|\b(?:{names})\b")


@cache
def _translit_detector(lang: str) -> TranslitDetector:
    from langlock.text.detectors.translit import TranslitDetector

    return TranslitDetector(lang)
