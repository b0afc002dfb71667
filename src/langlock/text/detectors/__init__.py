"""Detectors: one class per kind of evidence, each turning a Context into Findings.

One module per kind family: ``special_tokens``, ``invisible``, ``mojibake``, ``scripts``
(foreign_script, mixed_script), ``latin`` (foreign_word and wrong_language in Latin
letters, translit), ``sister`` (wrong_language in the target's own script), ``translit``
(the transliteration engine) and ``repetition``.

Every detector scans with precompiled regular expressions first, so clean text costs a
few C-level passes; Python-level work happens only where something suspicious was found.
"""

from langlock.text.detectors.base import Detector
from langlock.text.detectors.invisible import InvisibleDetector, char_label
from langlock.text.detectors.latin import LatinWordDetector
from langlock.text.detectors.mojibake import MojibakeDetector
from langlock.text.detectors.repetition import RepetitionDetector
from langlock.text.detectors.scripts import ScriptDetector, hidden_english_word, romanize
from langlock.text.detectors.sister import SisterLanguageDetector
from langlock.text.detectors.special_tokens import SpecialTokenDetector

__all__ = [
    "Detector",
    "InvisibleDetector",
    "LatinWordDetector",
    "MojibakeDetector",
    "RepetitionDetector",
    "ScriptDetector",
    "SisterLanguageDetector",
    "SpecialTokenDetector",
    "char_label",
    "hidden_english_word",
    "romanize",
]
