"""Transliteration schemes: the data of ``data/translit/{lang}.toml``, compiled."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_LANG_RE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True, slots=True)
class _Option:
    cyr: str
    cost: float
    ctx: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Guard:
    name: str
    shape: re.Pattern[str]
    marker: re.Pattern[str]
    run_markers: bool
    penalty: float


@dataclass(frozen=True, slots=True)
class _Scheme:
    """A language's transliteration data, compiled from its toml file."""

    lang: str
    morph_lang: str
    freq_lang: str
    vowels: frozenset[str]
    consonants: frozenset[str]
    options: dict[str, tuple[_Option, ...]]
    max_chunk: int
    split_cost: dict[str, float]
    default_split: float
    beam: int
    max_word_len: int
    cost_weight: float
    soft_sign: str
    soft_cost: float
    soft_after: frozenset[str]
    marked: frozenset[str]
    compound_endings: tuple[tuple[str, str], ...]
    compound_penalty: float
    major: tuple[str, ...]
    minor: tuple[str, ...]
    minor_offset: float
    thresholds: dict[str, float]
    name_tags: frozenset[str]
    guards: tuple[_Guard, ...]
    soft_apostrophe: re.Pattern[str] | None
    not_soft_apostrophe: re.Pattern[str] | None
    soft_apostrophe_bonus: float
    translit_marker: re.Pattern[str] | None


_DEFAULT_THRESHOLDS: dict[str, float] = {
    "known_rare_zipf": 1.0,
    "anchor_min_letters": 4,
    "anchor_min_ru": 2.0,
    "anchor_max_foreign": 3.0,
    "anchor_min_score": 1.5,
    "anchor_max_cost": 0.9,
    "support_min_ru": 1.0,
    "support_min_score": 0.0,
    "weak_min_ru": 4.0,
    "weak_min_score": -1.5,
    "pair_min_best_score": 2.5,
    "pair_min_total": 3.0,
    "pair_max_best_cost": 0.5,
    "lone_min_letters": 5,
    "lone_min_ru": 3.0,
    "lone_max_foreign": 2.5,
    "lone_min_score": 2.0,
    "lone_max_cost": 0.9,
    "lone_cost_per_letter": 0.15,
    "long_min_letters": 8,
    "long_min_ru": 1.5,
    "long_max_foreign": 1.0,
    "long_min_score": 1.0,
    "acronym_max_letters": 4,
    "run_lone_max_foreign": 1.0,
    "title_noun_min_score": 3.0,
    "title_noun_max_foreign": 1.5,
}


def _parse_option(spec: str, default_cost: float = 0.0) -> _Option | None:
    """Parse one informal option, ``"CYRILLIC COST [CONTEXT ...]"``.

    >>> _parse_option("й 0.3 afterV")
    _Option(cyr='й', cost=0.3, ctx=frozenset({'afterV'}))
    >>> _parse_option("_ 1 end").cyr
    ''
    """
    parts = str(spec).split()
    if not parts:
        return None
    cyr = "" if parts[0] == "_" else parts[0]
    try:
        cost = float(parts[1]) if len(parts) > 1 else default_cost
    except ValueError:
        return None
    return _Option(cyr, cost, frozenset(parts[2:]))


def _add_option(
    table: dict[str, dict[tuple[str, frozenset[str]], float]], latin: str, opt: _Option
) -> None:
    slot = table.setdefault(latin, {})
    key = (opt.cyr, opt.ctx)
    if key not in slot or opt.cost < slot[key]:
        slot[key] = opt.cost


def _compile_scheme(raw: dict[str, Any], lang: str) -> _Scheme:
    """Turn the toml tables into lookup structures (inverting the formal schemes)."""
    table: dict[str, dict[tuple[str, frozenset[str]], float]] = {}
    for scheme in (raw.get("schemes") or {}).values():
        cost = float(scheme.get("cost", 0.0))
        for cyr, latin in (scheme.get("letters") or {}).items():
            for lat in [latin] if isinstance(latin, str) else list(latin):
                if lat:
                    _add_option(table, str(lat).lower(), _Option(str(cyr), cost, frozenset()))
    for latin, specs in (raw.get("informal") or {}).items():
        for spec in [specs] if isinstance(specs, str) else list(specs):
            opt = _parse_option(spec)
            if opt is not None:
                _add_option(table, str(latin).lower(), opt)
    options = {
        lat: tuple(
            sorted(
                (_Option(c, v, ctx) for (c, ctx), v in slot.items()), key=lambda o: (o.cost, o.cyr)
            )
        )
        for lat, slot in table.items()
    }
    search = raw.get("search") or {}
    comp = raw.get("competitors") or {}
    det = dict(_DEFAULT_THRESHOLDS)
    det.update(
        {k: float(v) for k, v in (raw.get("detector") or {}).items() if isinstance(v, int | float)}
    )
    guards = []
    for name, g in (raw.get("guards") or {}).items():
        try:
            guards.append(
                _Guard(
                    name,
                    re.compile(g["shape"]),
                    re.compile(g["marker"]),
                    bool(g.get("run_markers", False)),
                    float(g.get("penalty", 2.0)),
                )
            )
        except (KeyError, re.error, TypeError, ValueError):
            continue
    cs = raw.get("compound_stem") or {}
    sig = raw.get("signals") or {}
    return _Scheme(
        lang=lang,
        morph_lang=str(raw.get("morph_lang", lang)),
        freq_lang=str(raw.get("freq_lang", lang)),
        vowels=frozenset(str(raw.get("vowels", ""))),
        consonants=frozenset(str(raw.get("consonants", ""))),
        options=options,
        max_chunk=max((len(k) for k in options), default=1),
        split_cost={str(k): float(v) for k, v in (search.get("split_cost") or {}).items()},
        default_split=float(search.get("default_split_cost", 0.5)),
        beam=int(search.get("beam", 64)),
        max_word_len=int(search.get("max_word_len", 40)),
        cost_weight=float(search.get("cost_weight", 0.5)),
        soft_sign=str(search.get("implied_soft_sign", "")),
        soft_cost=float(search.get("implied_soft_sign_cost", 0.8)),
        soft_after=frozenset(str(search.get("implied_soft_sign_after", ""))),
        marked=frozenset(str(search.get("marked_letters", ""))),
        compound_endings=tuple((str(a), str(b)) for a, b in cs.get("endings", [])),
        compound_penalty=float(cs.get("penalty", 1.0)),
        major=tuple(comp.get("major", ["en"])),
        minor=tuple(comp.get("minor", [])),
        minor_offset=float(comp.get("minor_offset", 1.0)),
        thresholds=det,
        name_tags=frozenset((raw.get("detector") or {}).get("name_tags", [])),
        guards=tuple(guards),
        soft_apostrophe=_compile_or_none(sig.get("soft_apostrophe")),
        not_soft_apostrophe=_compile_or_none(sig.get("not_soft_apostrophe")),
        soft_apostrophe_bonus=float(sig.get("soft_apostrophe_bonus", 0.0)),
        translit_marker=_compile_or_none(sig.get("translit_marker")),
    )


def _compile_or_none(pattern: Any) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern) if isinstance(pattern, str) and pattern else None
    except re.error:
        return None


@lru_cache(maxsize=16)
def _load_scheme(lang: str) -> _Scheme | None:
    """The compiled data of ``data/translit/{lang}.toml``, or None when there is none.

    >>> _load_scheme("ru").lang
    'ru'
    >>> _load_scheme("../etc") is None
    True
    """
    if not isinstance(lang, str) or not _LANG_RE.match(lang):
        return None
    path = resources.files("langlock") / "data" / "translit" / f"{lang}.toml"
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        return _compile_scheme(raw, lang)
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError, KeyError):
        return None
