"""Find and repair mojibake: text whose bytes were decoded with the wrong encoding.

Two kinds of damage are handled, both parametric in the target alphabet:

* **UTF-8 read as a single-byte code page** (``ÐŸÑ€Ð¸Ð²ÐµÑ‚``, ``РџСЂРёРІРµС‚``,
  ``–ö–∞–∫``, ``п÷я─п╦``, ``╨Я╤А``): each letter of the target alphabet became two (or
  three) characters. UTF-8's byte structure is strict, so a run that re-encodes to valid
  UTF-8 *and* decodes to letters of the target alphabet is mojibake with near certainty;
  no lexicon is needed.
* **Legacy 8-bit mix-ups** (Windows-1251 read as KOI8-R and back, ``оПХБЕР``;
  Windows-1251 read as Windows-1252, ``Ïðèâåò``; Windows-1251 and CP866 swapped): one
  letter became another letter, so only a lexicon can tell. A word counts when its wordfreq
  Zipf frequency is clearly higher after the repair than before and its shape gives
  evidence (the case flip KOI8 vs Windows-1251 leaves, or characters that no word of the
  target language contains).

Mojibake of mojibake is undone by repeating the repair while it helps (at most 3 rounds).

Which part is whose: ``ftfy.fix_encoding_and_explain`` is tried first on every candidate;
it handles UTF-8 read as Windows-1252/Latin-1 (and its sloppy variants) very well. It does
not consider Mac-Roman, KOI8-R or CP866 for Cyrillic (its badness heuristic never flags
``–ö–∞–∫``) and knows nothing of 8-bit Cyrillic mix-ups, so the byte tables, the UTF-8
grammar, the lexicon checks and the span search here are hand-written.

Speed: clean text costs one scan with a precompiled pre-filter: a character class of every
character that some family's tell-tale pair needs and that ordinary text of the target
language does not use (plus, as a second pattern, two capitals in a row for the
KOI8/Windows-1251 case flip). Only the lines it hits are matched against each family's own
pattern, and only matches of those get decoded. All patterns use the standard ``re``
module on purpose: ``regex`` scans a class of a few hundred characters about 40 times slower
(150-200 ms/MB against 3-6 ms/MB, measured on Russian text), and Python 3.11's ``re`` has
the possessive quantifiers the grammar needs.

Known limits: a fragment of only very short words can leave no tell-tale character
(Windows-1251 ``С‚С‹`` for ``ты``: ``‚`` and ``‹`` are real quotation marks too), and
Mac-Cyrillic turns words made only of р…я into dashes and capitals (``—Б—Б—Б—А``); both are
left alone rather than risk repairing real text.
"""

from __future__ import annotations

from collections.abc import Iterator

from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.detectors.mojibake.families import default_alphabet
from langlock.text.detectors.mojibake.spans import MojibakeSpan, find_mojibake, repair
from langlock.text.findings import Finding

__all__ = ["MojibakeDetector", "MojibakeSpan", "default_alphabet", "find_mojibake", "repair"]


class MojibakeDetector(Detector):
    """Text decoded with the wrong encoding, with its repair (``find_mojibake``)."""

    kinds = ("mojibake",)

    def find(self, ctx: Context) -> Iterator[Finding]:
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
