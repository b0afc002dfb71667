"""Russian written in Latin letters: find it and give the Cyrillic spelling.

``privet, kak dela`` is Russian in Latin letters ("translit"). No library detects the
informal kind, so this module is a small lexicon-backed classifier:

1. **Candidates.** A Latin word is read back into Cyrillic with the transliteration
   schemes in ``data/translit/{lang}.toml`` (BGN/PCGN, ICAO passport, ISO 9 / GOST,
   scholarly, informal "volapuk": ``sh``/``ch``/``zh``/``ya``, ``j`` for й, ``'`` for ь,
   ``4`` for ч, ``w`` for ш ...). A beam search over the word keeps the cheapest
   readings (``cyrillic_candidates``); when the lexicon is loaded, readings that are not
   the prefix of any Russian word form are dropped as they grow.
2. **Lexicon.** A reading counts when the pymorphy3 dictionary knows it; its weight is its
   wordfreq Zipf frequency, less a little for an unusual spelling.
3. **Competition.** The Latin word's own frequency in English and the other Latin-script
   languages likely in answers (wordfreq), and the shapes of romaji, pinyin and Korean
   romanization (regexes in the data file), speak against it.
4. **Context.** Neighbouring words decide: a phrase with a clearly Russian word
   (``ya ne znayu``) is flagged whole; a lone word only when it is long, frequent in
   Russian and nothing else (``spasibo``, ``khorosho``), never ``da``, ``net``, ``mama``.

Import is cheap: the data file, pymorphy3 and wordfreq load on first use and stay cached.

>>> cyrillic_candidates("privet")[0]
'привет'
"""

from langlock.text.detectors.translit.detector import TranslitDetector, TranslitHit
from langlock.text.detectors.translit.readings import cyrillic_candidates, to_cyrillic
from langlock.text.detectors.translit.scheme import _load_scheme as _load_scheme

__all__ = ["TranslitDetector", "TranslitHit", "cyrillic_candidates", "to_cyrillic"]
