"""Policy: target language, preset and allow-lists, the one input every door shares.

Target languages are data: ``langlock/data/profiles/<code>.toml`` holds the alphabet,
scripts, lexicon names, homoglyph table and the words a prompt uses to ask for another
language. Presets are the switches of POLICY.md.

>>> p = Policy.from_options(lang="ru", preset="strict", allow=["Foo"])
>>> p.profile.name, p.preset.latin_words, "foo" in p.allow
('Russian', 'all', True)
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import regex

from langlock.text.scripts import SCRIPTS

#: The target language when a caller names none.
DEFAULT_LANG = "ru"


class PresetName(StrEnum):
    """The presets of POLICY.md, in order from the strictest."""

    strict = "strict"
    standard = "standard"
    lenient = "lenient"


#: How a preset treats Latin words in the prose of a non-Latin target (see ``Preset``).
LatinWords = Literal["all", "common", "none"]

#: Kinds that `lenient` still reports (POLICY.md, "Presets").
_LENIENT_KINDS = frozenset(
    {
        "foreign_script",
        "wrong_language",
        "mixed_script",
        "mojibake",
        "invisible",
        "special_token",
        "repetition",
    }
)


@dataclass(frozen=True, slots=True)
class Preset:
    """The switches POLICY.md names.

    ``latin_words``: ``"all"`` flags every Latin letter in prose (strict), ``"common"``
    flags ordinary foreign words but not names or acronyms (standard), ``"none"`` lets
    Latin words pass (lenient). ``gloss_major``: a parenthesised gloss fails the text.
    """

    name: str
    latin_words: LatinWords
    gloss_major: bool
    kinds: frozenset[str]


#: What ``strict`` and ``standard`` report besides ``_LENIENT_KINDS``.
_LATIN_WORD_KINDS = frozenset({"foreign_word", "translit"})

#: The presets by name; the names are ``PresetName``'s, in its order.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name=PresetName.strict.value,
            latin_words="all",
            gloss_major=True,
            kinds=_LENIENT_KINDS | _LATIN_WORD_KINDS,
        ),
        Preset(
            name=PresetName.standard.value,
            latin_words="common",
            gloss_major=False,
            kinds=_LENIENT_KINDS | _LATIN_WORD_KINDS,
        ),
        Preset(
            name=PresetName.lenient.value,
            latin_words="none",
            gloss_major=False,
            kinds=_LENIENT_KINDS,
        ),
    )
}


@dataclass(frozen=True, slots=True, eq=False)
class Profile:
    """What langlock knows about one target language (loaded from its TOML file).

    Compared and hashed by identity: ``load_profile`` returns one object per language.
    """

    code: str
    name: str
    scripts: frozenset[str]
    alphabet: str
    wordfreq: str
    morphology: str
    foreign_lexicons: tuple[str, ...]
    sister_languages: tuple[str, ...]
    sister_signs: Mapping[str, str]
    transliteration: str
    identifier_cues: tuple[str, ...]
    gloss_markers: tuple[str, ...]
    homoglyphs: Mapping[str, str]
    request_cues: tuple[str, ...]
    request_stems: Mapping[str, tuple[str, ...]]

    @property
    def native_is_latin(self) -> bool:
        return "Latin" in self.scripts

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        requests = data.get("requests", {})
        return cls(
            code=data["code"],
            name=data["name"],
            scripts=frozenset(data["scripts"]),
            alphabet=data.get("alphabet") or languages()[data["code"]].letters,
            wordfreq=data.get("wordfreq", ""),
            morphology=data.get("morphology", ""),
            foreign_lexicons=tuple(data.get("foreign_lexicons", ())),
            sister_languages=tuple(data.get("sister_languages", ())),
            sister_signs=dict(data.get("sister_signs", {})),
            transliteration=data.get("transliteration", ""),
            identifier_cues=tuple(data.get("identifier_cues", ())),
            gloss_markers=tuple(data.get("gloss_markers", ())),
            homoglyphs=dict(data.get("homoglyphs", {})),
            request_cues=tuple(requests.get("cues", ())),
            request_stems={k: tuple(v) for k, v in requests.get("stems", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Language:
    """One language langlock meets, target or not (a table of ``data/languages.toml``).

    ``letters`` (lowercase) is set where its wordfreq lexicon backs the legacy mojibake
    checks.

    >>> uk = languages()["uk"]
    >>> uk.name, uk.script, "ї" in uk.letters
    ('Ukrainian', 'Cyrillic', True)
    """

    code: str
    name: str
    script: str = "Latin"
    letters: str = ""


@cache
def languages() -> Mapping[str, Language]:
    """Every language of ``data/languages.toml`` by code, in the file's order."""
    path = resources.files("langlock") / "data" / "languages.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {code: Language(code=code, **fields) for code, fields in data.items()}


def language_name(code: str) -> str:
    """A language's English name; the code itself for a language the data does not know.

    >>> language_name("es"), language_name("xx")
    ('Spanish', 'xx')
    """
    known = languages().get(code)
    return known.name if known else code


def language_script(code: str) -> str:
    """The script a language is written in (Latin for a language the data does not know).

    >>> language_script("bg"), language_script("de"), language_script("xx")
    ('Cyrillic', 'Latin', 'Latin')
    """
    known = languages().get(code)
    return known.script if known else "Latin"


def available_languages() -> list[str]:
    """Codes of the shipped target-language profiles.

    >>> sorted(available_languages())[:3]
    ['en', 'ru', 'uk']
    """
    folder = resources.files("langlock") / "data" / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


@cache
def load_profile(lang: str) -> Profile:
    """Load a shipped profile by language code; a clear error names the ones there are."""
    path = resources.files("langlock") / "data" / "profiles" / f"{lang}.toml"
    if not path.is_file():
        raise ValueError(
            f"unknown target language {lang!r}; available: {', '.join(available_languages())}"
        )
    return Profile.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True, slots=True)
class Policy:
    """Target language + preset + user allow-list. Hashable, so checkers can be cached."""

    profile: Profile
    preset: Preset
    allow: frozenset[str] = field(default_factory=frozenset)
    allow_scripts: frozenset[str] = field(default_factory=frozenset)

    @property
    def lang(self) -> str:
        return self.profile.code

    def reports(self, kind: str) -> bool:
        return kind in self.preset.kinds

    @classmethod
    def from_options(
        cls,
        lang: str = DEFAULT_LANG,
        preset: str = PresetName.standard.value,
        allow: Iterable[str] = (),
        allow_scripts: Iterable[str] = (),
        config: str | Path | None = None,
    ) -> Policy:
        """Build a policy from CLI/API options and an optional TOML config file.

        The config file may set ``lang``, ``preset``, ``allow = [...]`` (names and terms
        that are never findings) and ``allow_scripts = [...]``; explicit options add to it.
        """
        terms = list(allow)
        scripts = list(allow_scripts)
        if config is not None:
            cfg = load_config(config)
            lang = cfg.get("lang", lang)
            preset = cfg.get("preset", preset)
            terms += cfg.get("allow", [])
            scripts += cfg.get("allow_scripts", [])
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        return cls(
            profile=load_profile(lang),
            preset=PRESETS[preset],
            allow=frozenset(t.casefold() for t in terms if t.strip()),
            allow_scripts=frozenset(script_name(s) for s in scripts),
        )


@cache
def policy_for(lang: str, preset: str) -> Policy:
    """The policy for a language and preset, built once per process.

    >>> policy_for("ru", "standard") is policy_for("ru", "standard")
    True
    """
    return Policy.from_options(lang=lang, preset=preset)


def script_name(name: str) -> str:
    """A script's canonical name, as findings and masks use it.

    >>> script_name("han"), script_name("Cyrillic")
    ('Han', 'Cyrillic')
    """
    known = {s.casefold(): s for s in SCRIPTS}
    if name.strip().casefold() not in known:
        raise ValueError(f"unknown script {name!r}; known scripts: {', '.join(SCRIPTS)}")
    return known[name.strip().casefold()]


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a langlock TOML config (top level or a ``[langlock]`` table)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read config {path}: {exc}") from exc
    return dict(data.get("langlock", data))


@cache
def _cue_pattern(cues: tuple[str, ...]) -> regex.Pattern[str] | None:
    return regex.compile("|".join(f"(?:{c})" for c in cues), regex.I) if cues else None


@lru_cache(maxsize=4096)  # an evaluation checks many answers against the same prompts
def requested_by_prompt(profile: Profile, prompt: str | None) -> frozenset[str]:
    """Languages and scripts a prompt asks for (so the answer may contain them).

    A prompt must both name the language and ask for text (a cue such as "на …ом",
    "переведи", "текст").

    >>> sorted(requested_by_prompt(load_profile("ru"), "Объясни это на английском языке"))
    ['en']
    >>> sorted(requested_by_prompt(load_profile("ru"), "Как выучить английский?"))
    []
    """
    if not prompt:
        return frozenset()
    cues = _cue_pattern(profile.request_cues)
    if cues is None or not cues.search(prompt):
        return frozenset()
    low = prompt.casefold()
    return frozenset(
        key for key, stems in profile.request_stems.items() if _stem_pattern(stems).search(low)
    )


def requested_scripts(profile: Profile, prompt: str | None) -> frozenset[str]:
    """Scripts an answer may use because the prompt asks for them (for the lock).

    >>> sorted(requested_scripts(load_profile("ru"), "Как сказать «спасибо» по-японски?"))
    ['Han', 'Hiragana', 'Katakana']
    >>> sorted(requested_scripts(load_profile("ru"), "Переведи на английский: кошка"))
    ['Latin']
    """
    asked = requested_by_prompt(profile, prompt)
    return frozenset(key if key in SCRIPTS else language_script(key) for key in asked)


@lru_cache(maxsize=256)
def _stem_pattern(stems: tuple[str, ...]) -> regex.Pattern[str]:
    """Stems matched at a word start: «тайск» must not fire inside «по-китайски».

    >>> thai = _stem_pattern(("тайск",))
    >>> bool(thai.search("по-китайски")), bool(thai.search("по-тайски"))
    (False, True)
    """
    return regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(s) for s in stems) + ")")
