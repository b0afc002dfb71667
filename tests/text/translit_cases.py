"""Cases and helpers the translit tests share.

The lists are the detector's evaluation set (``tests/data/text/translit_cases.json``):
realistic translit phrases in several schemes (positives) and English, tech terms, names,
Spanish, German, other European languages, romaji, pinyin and Korean romanization
(negatives).

- ``POSITIVES``: (phrase, its Cyrillic word by word); "?" marks a word that is also
  common elsewhere (French "les"), not required.
- ``LONE_POSITIVES``: single translit words embedded in Russian prose; (text, expected fix
  of the Latin word).
- ``LONE_NEGATIVES``: single ambiguous words inside Russian prose: must not be flagged
  alone.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from langlock.text.detectors.translit import TranslitDetector, TranslitHit

_CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "text" / "translit_cases.json").read_text(
        encoding="utf-8"
    )
)

POSITIVES: list[tuple[str, str]] = [(text, cyr) for text, cyr in _CASES["positives"]]
LONE_POSITIVES: list[tuple[str, str | None]] = [
    (text, cyr) for text, cyr in _CASES["lone_positives"]
]
ENGLISH_PROSE: list[str] = _CASES["english_prose"]
TECH_TERMS: list[str] = _CASES["tech_terms"]
NAMES: list[str] = _CASES["names"]
SPANISH: list[str] = _CASES["spanish"]
GERMAN: list[str] = _CASES["german"]
OTHER_EUROPEAN: list[str] = _CASES["other_european"]
ROMAJI: list[str] = _CASES["romaji"]
PINYIN: list[str] = _CASES["pinyin"]
KOREAN: list[str] = _CASES["korean"]
LONE_NEGATIVES: list[str] = _CASES["lone_negatives"]

#: Latin words as the checker passes them: Latin letters with inner hyphens/apostrophes,
#: an optional soft-sign apostrophe at the end, and the volapuk digits 4/6/3 in front.
_LATIN = "A-Za-z\u00c0-\u024f"
WORD = re.compile(rf"[346]?[{_LATIN}](?:[{_LATIN}'’ʹ-]*[{_LATIN}])?'?")


def latin_words(text: str) -> list[tuple[int, int, str]]:
    """The Latin words of ``text`` as (start, end, word)."""
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def hits_of(det: TranslitDetector, text: str) -> list[TranslitHit]:
    return det.find(latin_words(text))


def same(a: str, b: str) -> bool:
    """Cyrillic equality up to ё/е (writers drop the dots)."""
    return a.replace("ё", "е").replace("Ё", "Е") == b.replace("ё", "е").replace("Ё", "Е")


def english_sentences(n: int = 300, seed: int = 1234) -> list[str]:
    """Random sentences over the 3000 most frequent English words (wordfreq)."""
    from wordfreq import top_n_list

    vocab = [w for w in top_n_list("en", 3000) if w.isalpha()]
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 15))) for _ in range(n)]


NEGATIVE_SETS: dict[str, list[str]] = {
    "english_prose": ENGLISH_PROSE,
    "tech_terms": [" ".join(TECH_TERMS), *TECH_TERMS],
    "names": [" ".join(NAMES), *NAMES],
    "spanish": SPANISH,
    "german": GERMAN,
    "other_european": OTHER_EUROPEAN,
    "romaji": ROMAJI,
    "pinyin": PINYIN,
    "korean": KOREAN,
    "lone_in_russian": LONE_NEGATIVES,
}
