"""The detector: judge runs of neighbouring Latin words with their context."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from langlock.policy import DEFAULT_LANG
from langlock.text.detectors.translit.readings import (
    _Evidence,
    _evidence,
    _normalize,
    _restore_case,
)
from langlock.text.detectors.translit.scheme import _load_scheme, _Scheme

_NEIGHBOUR_GAP = 3  # words closer than this (end to start, in code points) are neighbours


@dataclass(frozen=True, slots=True)
class TranslitHit:
    """One Latin word judged to be transliterated Russian, with its Cyrillic spelling."""

    start: int
    end: int
    text: str
    cyrillic: str
    confidence: float


@dataclass(slots=True)
class _Item:
    start: int
    end: int
    text: str
    ev: _Evidence
    score: float
    label: str = "X"  # A(nchor), S(upport), W(eak), X (not Russian)


def _run_shape_counts(items: list[_Item], n_guards: int) -> list[tuple[int, int]]:
    """Per guard: how many words of the run fit its shape, and how many show a marker."""
    counts = []
    for gi in range(n_guards):
        fit = sum(1 for it in items if it.ev.shapes[gi][1])
        marks = sum(1 for it in items if it.ev.shapes[gi][2])
        counts.append((fit, marks))
    return counts


def _guard_penalty(item: _Item, counts: list[tuple[int, int]], run_len: int, sch: _Scheme) -> float:
    """Score lost to romaji/pinyin/Korean look-alikes, judged with the run's markers."""
    penalty = 0.0
    for gi, guard in enumerate(sch.guards):
        _, fits, marked = item.ev.shapes[gi]
        if not fits:
            continue
        if marked:
            penalty = max(penalty, guard.penalty)
            continue
        if guard.run_markers:
            fit, marks = counts[gi]
            others_fit, others = fit - 1, run_len - 1
            if marks and others_fit * 2 >= others:
                penalty = max(penalty, guard.penalty)
    return penalty


def _is_caps(text: str) -> bool:
    """All capitals, more than one letter.

    >>> _is_caps("PRIVET"), _is_caps("Privet"), _is_caps("I")
    (True, False, False)
    """
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def _is_acronym(text: str, sch: _Scheme) -> bool:
    """A short all-caps word (GPU, API, DA), which alone is an acronym, not translit."""
    return (
        _is_caps(text) and sum(c.isalpha() for c in text) <= sch.thresholds["acronym_max_letters"]
    )


@lru_cache(maxsize=1 << 16)
def _is_mixed_case(text: str) -> bool:
    """Upper-case after the first letter of a part, but not all caps: iPhone, McKinsey.

    >>> _is_mixed_case("iPhone"), _is_mixed_case("Privet"), _is_mixed_case("PRIVET")
    (True, False, False)
    >>> _is_mixed_case("zh-Hant"), _is_mixed_case("Rostov-na-Donu")
    (True, False)
    """
    letters = [c for c in text if c.isalpha()]
    if not letters or all(c.isupper() for c in letters):
        return False
    parts = [p for p in re.split(r"[-'’]", text) if p]
    if any(any(c.isupper() for c in part[1:]) for part in parts):
        return True
    # lower case, then a capital: zh-Hant, e-Mail (not Po-russki, Rostov-na-Donu)
    return parts[0][:1].islower() and any(p[:1].isupper() for p in parts[1:])


def _label(item: _Item, sch: _Scheme, run_len: int) -> str:
    """A(nchor): clearly Russian; S(upport): Russian rather than foreign; W(eak): a
    frequent Russian word that is also foreign (da, no), which only joins a phrase;
    X: not Russian. ``item.score`` must be set."""
    t = sch.thresholds
    r = item.ev.reading
    if r is None or _is_mixed_case(item.text):
        return "X"
    if run_len == 1 and _is_acronym(item.text, sch):
        return "X"
    if (
        item.ev.letters >= t["anchor_min_letters"]
        and r.ru >= t["anchor_min_ru"]
        and item.ev.foreign <= t["anchor_max_foreign"]
        and r.cost <= t["anchor_max_cost"]
        and item.score >= t["anchor_min_score"]
        and not r.name_only
    ):
        return "A"
    if item.ev.letters > 1 and r.ru >= t["support_min_ru"] and item.score >= t["support_min_score"]:
        return "S"  # single letters (v, s, i, or a variable x) only ever join as weak
    if r.ru >= t["weak_min_ru"] and item.score >= t["weak_min_score"]:
        return "W"
    return "X"


def _is_title(text: str) -> bool:
    """Title-case (first letter upper, not all caps).

    >>> _is_title("Privet"), _is_title("PRIVET"), _is_title("privet")
    (True, False, False)
    """
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and letters[0].isupper() and not all(c.isupper() for c in letters)


def _lone_ok(item: _Item, sch: _Scheme, in_run: bool) -> bool:
    """Whether one word alone is strong enough evidence (spasibo yes, mama no).

    ``in_run``: other Latin words surround it (an English sentence, say), where only a
    word that no other language uses will do (priyatnoy yes, babushka no).
    """
    t = sch.thresholds
    r = item.ev.reading
    if r is None or r.name_only or _is_acronym(item.text, sch):
        return False
    ev = item.ev
    if in_run and (
        ev.foreign > t["run_lone_max_foreign"]
        or _is_title(item.text)
        or sch.translit_marker is None
        or not sch.translit_marker.search(_normalize(item.text))
    ):
        return False  # amid English: only a word with a translit spelling, not a name
    if _is_title(item.text) or _is_caps(item.text):
        if r.name_any:
            return False  # Tolstoy, Moskva: a name in Latin spelling
        if r.noun_only and (
            item.score < t["title_noun_min_score"] or ev.foreign > t["title_noun_max_foreign"]
        ):
            return False  # Sberbank, COBYLA: maybe a brand
    if r.cost > max(t["lone_max_cost"], t["lone_cost_per_letter"] * ev.letters):
        return False
    if (
        ev.letters >= t["lone_min_letters"]
        and r.ru >= t["lone_min_ru"]
        and ev.foreign <= t["lone_max_foreign"]
        and item.score >= t["lone_min_score"]
    ):
        return True
    # long and nothing else, in Russian prose only: rare English words (grammeme) are
    # Russian word forms too often for this to hold amid English
    return (
        not in_run
        and ev.letters >= t["long_min_letters"]
        and r.ru >= t["long_min_ru"]
        and ev.foreign <= t["long_max_foreign"]
        and item.score >= t["long_min_score"]
    )


def _confidence(strength: float) -> float:
    """Map summed evidence (Zipf units) to (0.5, 0.99].

    >>> _confidence(0.0), _confidence(10.0)
    (0.5, 0.98)
    """
    return round(min(0.99, 0.5 + 0.5 * (1.0 - math.exp(-max(0.0, strength) / 3.0))), 2)


def _chain_flagged(chain: list[_Item], sch: _Scheme, in_run: bool) -> bool:
    """Whether the Russian-looking words of one chain make it translit.

    A clearly Russian word with company (``ya ne znayu``), a lone word that is strong
    on its own (``spasibo``), or a phrase whose best word is strongly Russian and whose
    words together lean Russian (``kak dela``: "dela" is also Portuguese).
    """
    t = sch.thresholds
    strong = [it for it in chain if it.label in "AS"]
    if not strong:
        return False
    distinct = {_normalize(it.text) for it in strong}  # "binom ... binom" is one word
    if any(it.label == "A" for it in strong) and len(distinct) >= 2:
        return True
    if len(strong) == 1 and _lone_ok(strong[0], sch, in_run):
        return True
    best = max(strong, key=lambda it: it.score)
    reading = best.ev.reading
    return (
        len(chain) >= 2
        and reading is not None
        and best.score >= t["pair_min_best_score"]
        and reading.cost <= t["pair_max_best_cost"]
        and not reading.name_any
        and sum(it.score for it in chain) >= t["pair_min_total"]
        and any(it.ev.letters >= 4 for it in chain)
    )


def _judge_chain(chain: list[_Item], sch: _Scheme, run_len: int) -> list[tuple[_Item, float]]:
    """Hits within one chain of A/S/W words (consecutive neighbours in a run)."""
    if len(chain) > 1 and all(_is_title(it.text) for it in chain):
        return []  # a list of names: Sberbank Gazprom Lada
    if not _chain_flagged(chain, sch, run_len > 1):
        return []
    strong = [it for it in chain if it.label in "AS"]
    # weak words (da, no) join only where they touch the flagged core
    idx = [i for i, it in enumerate(chain) if it.label in "AS"]
    lo, hi = min(idx), max(idx)
    while lo > 0 and chain[lo - 1].label == "W":
        lo -= 1
    while hi < len(chain) - 1 and chain[hi + 1].label == "W":
        hi += 1
    conf = _confidence(sum(max(0.0, it.score) for it in strong))
    return [(it, conf) for it in chain[lo : hi + 1]]


def _runs(words: Sequence[Any]) -> list[list[tuple[int, int, str]]]:
    """Split the caller's words into runs of neighbours; malformed entries break runs.

    >>> [[w for *_, w in r] for r in _runs([(0, 6, "privet"), (8, 11, "kak"), (30, 34, "dela")])]
    [['privet', 'kak'], ['dela']]
    """
    runs: list[list[tuple[int, int, str]]] = []
    cur: list[tuple[int, int, str]] = []
    for entry in words:
        try:
            start, end, text = entry
            ok = isinstance(text, str) and isinstance(start, int) and isinstance(end, int)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            if cur:
                runs.append(cur)
            cur = []
            continue
        if cur and not (0 <= start - cur[-1][1] < _NEIGHBOUR_GAP):
            runs.append(cur)
            cur = []
        cur.append((start, end, text))
    if cur:
        runs.append(cur)
    return runs


class TranslitDetector:
    """Find Russian words written in Latin letters among a text's Latin words.

    >>> det = TranslitDetector()
    >>> [h.cyrillic for h in det.find([(0, 6, "privet"), (8, 11, "kak"), (12, 16, "dela")])]
    ['привет', 'как', 'дела']
    >>> det.find([(0, 3, "net")])
    []
    """

    def __init__(self, lang: str = DEFAULT_LANG) -> None:
        # ``lang`` names the schemes: the profile's ``transliteration``, which for the
        # default target is its own code.
        self.lang = lang if isinstance(lang, str) else ""

    @property
    def _scheme(self) -> _Scheme | None:
        return _load_scheme(self.lang)

    def find(self, words: Sequence[tuple[int, int, str]]) -> list[TranslitHit]:
        """Return the words judged to be transliterated Russian, in order.

        ``words`` are the Latin-letter words of a text outside code and URLs, as
        ``(start, end, word)`` with code-point offsets; words less than 3 code points
        apart (end to start) are neighbours. Case carries over: Privet -> Привет.
        """
        try:
            sch = self._scheme
            if sch is None or words is None:
                return []
            hits: list[TranslitHit] = []
            for run in _runs(list(words)):
                hits.extend(self._find_in_run(run, sch))
            hits.sort(key=lambda h: (h.start, h.end))
            return hits
        except Exception:
            return []

    def _find_in_run(self, run: list[tuple[int, int, str]], sch: _Scheme) -> list[TranslitHit]:
        items: list[_Item] = []
        for start, end, text in run:
            ev = _evidence(sch.lang, _normalize(text))
            items.append(_Item(start, end, text, ev, 0.0))
        counts = _run_shape_counts(items, len(sch.guards))
        for it in items:
            r = it.ev.reading
            if r is None:
                continue
            it.score = r.ru - it.ev.foreign - sch.cost_weight * r.cost
            it.score -= _guard_penalty(it, counts, len(items), sch)
            it.label = _label(it, sch, len(items))
        hits: list[TranslitHit] = []
        chain: list[_Item] = []
        for it in [*items, None]:
            if it is not None and it.label != "X":
                chain.append(it)
                continue
            if chain:
                for member, conf in _judge_chain(chain, sch, len(items)):
                    reading = member.ev.reading
                    if reading is None:
                        continue
                    hits.append(
                        TranslitHit(
                            member.start,
                            member.end,
                            member.text,
                            _restore_case(member.text.strip(), reading.cyr),
                            conf,
                        )
                    )
            chain = []
        return hits
