"""``wrong_language`` and ``foreign_word`` in the target's own script: sister languages
(Ukrainian in Russian, …)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import regex

from langlock.policy import Profile, language_name
from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.findings import Finding
from langlock.text.lexicon import is_native_word


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
                    f"{language_name(lang)} text instead of {profile.name}",
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
