"""Cases and helpers the mojibake tests share; the longer lists are in
``tests/data/text/mojibake_cases.json``: ``NEGATIVES`` (real text that must stay
untouched) and ``PIECES`` (pieces that look like real text or like mojibake, to stress the
span logic)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-* codecs used below)
from wordfreq import top_n_list

from langlock.policy import load_profile
from langlock.text.detectors.mojibake import MojibakeSpan

RU_ALPHABET = load_profile("ru").alphabet

UK_ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
EL_ALPHABET = "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώςϊϋΐΰ"

SENTENCE = "Привет, как дела? Всё хорошо - ёлки-палки, съешь ещё этих мягких булок"


def _words(lang: str, n: int = 5000) -> list[str]:
    return top_n_list(lang, n)


RU_WORDS = _words("ru")
RU_CYRILLIC_WORDS = [w for w in RU_WORDS if w.isalpha() and not w.isascii()]


def _sentences(
    words: list[str], n: int, seed: int, lo: int = 3, hi: int = 12, ends: str = ".!?…:"
) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = " ".join(rng.choice(words) for _ in range(rng.randint(lo, hi)))
        out.append(s[0].upper() + s[1:] + rng.choice([*ends, ""]))
    return out


def utf8_as(codec: str) -> Callable[[str], str]:
    """Text encoded as UTF-8 and shown in ``codec``."""
    return lambda s: s.encode("utf-8").decode(codec)


def legacy(real: str, shown: str) -> Callable[[str], str]:
    """Text encoded in 8-bit ``real`` and shown in ``shown``."""
    return lambda s: s.encode(real).decode(shown)


def check_invariants(text: str, spans: list[MojibakeSpan]) -> None:
    last_end = 0
    for sp in spans:
        assert isinstance(sp, MojibakeSpan)
        assert 0 <= sp.start < sp.end <= len(text)
        assert text[sp.start : sp.end] == sp.text
        assert sp.start >= last_end, "spans must be sorted and must not overlap"
        last_end = sp.end
        assert sp.fixed and sp.fixed != sp.text
        assert sp.explanation and "\n" not in sp.explanation


#: UTF-8 misread as each code page, with the name explanations give it.
UTF8_FAMILIES = [
    ("sloppy-windows-1252", "Windows-1252"),
    ("latin-1", "Latin-1"),
    ("sloppy-windows-1251", "Windows-1251"),
    ("mac_roman", "Mac-Roman"),
    ("mac_cyrillic", "Mac-Cyrillic"),
    ("koi8_r", "KOI8-R"),
    ("cp866", "CP866 (DOS)"),
    ("cp437", "CP437 (DOS)"),
    ("sloppy-windows-1250", "Windows-1250"),
]

_CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "text" / "mojibake_cases.json").read_text(
        encoding="utf-8"
    )
)
NEGATIVES: list[str] = _CASES["negatives"]
PIECES: list[str] = _CASES["pieces"]
