"""Corruption recipes: one language slip in a clean answer, for preference pairs.

Each recipe turns a clean target-language answer into a minimally edited one with a single
slip (one English word, one glued word, Han characters, one sentence in Latin letters, a
look-alike letter, or a switch into English from one sentence on), so that in DPO the
shared text cancels and the gradient lands on the slip. A recipe is a pure function
``(text, rng, lang) -> str | None``: None when it has nothing to work on. None of them
writes inside a protected region (code, URLs, paths …) or makes one appear. What each
needs to know lives in ``data/train/corrupt_<lang>.toml`` (see ``corrupt_data``).

>>> import random
>>> english_word("Это очень важный шаг.", random.Random(1))
'Это очень important шаг.'
>>> [str(kind) for kind in RECIPES][:3]
['english_word', 'glued_english', 'han_inside']
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from langlock.policy import DEFAULT_LANG, PresetName, policy_for
from langlock.text.check import check
from langlock.training.corrupt_data import (
    CorruptionData,
    Span,
    count_words,
    is_free,
    load_data,
    match_case,
    protected,
    regions_kept,
    sentences,
    spell,
    splice,
    target_words,
)

#: How many candidate edits a recipe tries before it gives up (an edit is refused when it
#: would change or create a protected region).
MAX_TRIES = 24


class CorruptionKind(StrEnum):
    """The recipes, by the slip they make."""

    english_word = "english_word"
    glued_english = "glued_english"
    han_inside = "han_inside"
    translit_sentence = "translit_sentence"
    lookalike = "lookalike"
    english_switch = "english_switch"


#: The finding kinds (POLICY.md) that each recipe's slip is meant to raise.
EXPECTED_FINDINGS: dict[CorruptionKind, frozenset[str]] = {
    CorruptionKind.english_word: frozenset({"foreign_word"}),
    CorruptionKind.glued_english: frozenset({"foreign_word", "mixed_script"}),
    CorruptionKind.han_inside: frozenset({"foreign_script"}),
    CorruptionKind.translit_sentence: frozenset({"translit"}),
    CorruptionKind.lookalike: frozenset({"mixed_script"}),
    CorruptionKind.english_switch: frozenset({"wrong_language", "foreign_word"}),
}


class Recipe(Protocol):
    def __call__(self, text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
        """The corrupted text, or None when the recipe cannot apply."""
        ...


def _first_kept(text: str, edits: Iterable[Callable[[], str | None]]) -> str | None:
    """The first edit that changes the text and keeps its protected regions as they are.

    >>> _first_kept("слово", [lambda: "слово", lambda: "model(x)", lambda: "word"])
    'word'
    """
    for _, edit in zip(range(MAX_TRIES), edits, strict=False):
        new = edit()
        if new is not None and new != text and regions_kept(text, new):
            return new
    return None


def _shuffled(items: Sequence[Span], rng: random.Random) -> list[Span]:
    order = list(items)
    rng.shuffle(order)
    return order


def _lower_first(text: str, spans: Sequence[Span], rng: random.Random) -> list[Span]:
    """Spans in a random order, words in lower case before capitalised ones (a capitalised
    English word at a sentence start can pass for a name)."""
    order = _shuffled(spans, rng)
    return sorted(order, key=lambda s: not text[s[0]].islower())


def _known_words(text: str, data: CorruptionData) -> list[Span]:
    """Words with an English equivalent that the text does not hold already (an English
    word that the answer's code or a URL uses is an identifier to the checker).

    >>> t = 'Укажите кодировку: `encoding="utf-8"`. Это важно.'
    >>> [t[s:e] for s, e in _known_words(t, load_data("ru"))]
    ['важно']
    """
    low = text.casefold()
    return [
        (s, e)
        for s, e in target_words(text, data)
        if (english := data.words.get(text[s:e].lower())) and english.casefold() not in low
    ]


def english_word(text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
    """One target word replaced by its English equivalent, in the word's case.

    >>> english_word("Модель выучила новые данные.", random.Random(1))
    'Модель выучила новые data.'
    >>> english_word("Ой.", random.Random(1)) is None
    True
    """
    data = load_data(lang)

    def edit(span: Span) -> Callable[[], str]:
        word = text[span[0] : span[1]]
        return lambda: splice(text, *span, match_case(data.words[word.lower()], word))

    return _first_kept(text, map(edit, _lower_first(text, _known_words(text, data), rng)))


def _glued_forms(word: str, data: CorruptionData) -> list[str]:
    """English forms glued to the word's own ending, or else to a prefix.

    >>> _glued_forms("датасетом", load_data("ru"))
    ['datasetом', 'dataset-ом']
    >>> _glued_forms("Внимание", load_data("ru"))
    ['Attentionие']
    >>> _glued_forms("ответ", load_data("ru"))[:2]
    ['малоanswer', 'неanswer']
    """
    english = match_case(data.words[word.lower()], word)
    for suffix in data.suffixes:
        if word.lower().endswith(suffix) and len(word) - len(suffix) >= 2:
            ending = word[len(word) - len(suffix) :]
            # A capitalised word with a hyphenated ending reads as a name («iPhone'а»).
            return [english + ending] + [f"{english}-{ending}"] * english[0].islower()
    return [match_case(p, word) + english.lower() for p in data.prefixes]


def glued_english(text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
    """One target word replaced by its English equivalent glued to a target ending
    (``prompt-а``, ``datasetом``) or prefix (``малоattention``).

    >>> glued_english("Мы обучили модель на новом датасете.", random.Random(1))
    'Мы обучили модель на новом datasetе.'
    """
    data = load_data(lang)

    def edit(span: Span) -> Callable[[], str]:
        word = text[span[0] : span[1]]
        forms = _glued_forms(word, data)
        if data.prefixes and rng.random() < 0.2:
            forms = [match_case(p, word) + data.words[word.lower()] for p in data.prefixes]
        return lambda: splice(text, *span, rng.choice(forms))

    return _first_kept(text, map(edit, _lower_first(text, _known_words(text, data), rng)))


def _han_edits(text: str, span: Span, data: CorruptionData, rng: random.Random) -> list[str]:
    """Ways to leak Han characters into one word: its translation replaces it, a Han word
    sits inside it, replaces its tail or follows it without a space."""
    start, end = span
    word = text[start:end]
    han = rng.choice(data.han_pool)
    edits = [splice(text, end, end, han)]
    if word.lower() in data.han_words:
        edits += [splice(text, start, end, data.han_words[word.lower()])] * 2
    if len(word) >= 3:
        cut = rng.randrange(1, len(word) - 1)
        edits.append(splice(text, start + cut, start + cut, han))
    if len(word) >= 4:
        edits.append(splice(text, start + rng.randrange(2, len(word) - 1), end, han))
    return edits


def han_inside(text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
    """Han characters inside a word, replacing part of it or the whole, or glued after it
    (``за厚厚的``, ``очень 重要 шаг``), as Qwen-like models leak them.

    >>> han_inside("Это очень важный шаг.", random.Random(0))
    'Это очень 重要 шаг.'
    """
    data = load_data(lang)
    if not data.han_pool:
        return None
    words = target_words(text, data)
    known = [s for s in words if text[s[0] : s[1]].lower() in data.han_words]
    order = _shuffled(known, rng) if known and rng.random() < 0.5 else _shuffled(words, rng)
    return _first_kept(
        text, (lambda s=span: rng.choice(_han_edits(text, s, data, rng)) for span in order)
    )


def lookalike(text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
    """One or two letters of one word replaced by Latin look-alikes (``Макcвелла``).

    >>> lookalike("Пусть всё работает.", random.Random(4))
    'Пусть всё работaет.'
    """
    data = load_data(lang)
    spans = [
        (s, e)
        for s, e in target_words(text, data)
        if e - s >= 3 and any(c in data.lookalike for c in text[s:e])
    ]

    def edit(span: Span) -> Callable[[], str]:
        def make() -> str:
            word = list(text[span[0] : span[1]])
            places = [i for i, c in enumerate(word) if c in data.lookalike]
            for i in rng.sample(places, min(len(places), rng.choice((1, 1, 2)))):
                word[i] = data.lookalike[word[i]]
            return splice(text, *span, "".join(word))

        return make

    return _first_kept(text, map(edit, _shuffled(spans, rng)))


def _prose_sentences(text: str, data: CorruptionData, min_words: int) -> list[Span]:
    """Sentences with at least ``min_words`` target words that overlap no protected region."""
    regions = protected(text)
    words = target_words(text, data)
    return [
        span
        for span in sentences(text)
        if is_free(span, regions) and count_words(span, words) >= min_words
    ]


def translit_sentence(text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
    """One sentence written in Latin letters by one of the language's translit schemes
    (the inverse of ``data/translit/<lang>.toml``).

    >>> translit_sentence("Мёд густой. Он быстро кристаллизуется зимой.", random.Random(0))
    'Мёд густой. On bystro kristallizuetsja zimoj.'
    """
    data = load_data(lang)
    names = list(data.spelling_weights)
    weights = [data.spelling_weights[n] for n in names]

    def edit(span: Span) -> Callable[[], str]:
        spelling = data.spellings[rng.choices(names, weights)[0]]
        return lambda: splice(text, *span, spell(text[span[0] : span[1]], spelling))

    return _first_kept(text, map(edit, _shuffled(_prose_sentences(text, data, 3), rng)))


def english_switch(text: str, rng: random.Random, lang: str = DEFAULT_LANG) -> str | None:
    """From sentence k on the answer goes on in English (sentences from the data's pool):
    everything before sentence k stays byte for byte. The English run ends at the next
    protected region (a code block, a URL), which stays as it is, as does what follows.

    >>> english_switch("Мёд густой. Он кристаллизуется. Это нормально.", random.Random(5))
    'Мёд густой. Он кристаллизуется. Make sure to check the results carefully before you move on.'
    """
    data = load_data(lang)
    eligible = _prose_sentences(text, data, 2)
    if not data.switch_pool or not eligible:
        return None
    regions = protected(text)
    words = target_words(text, data)
    every = list(sentences(text))
    first = rng.randrange(1, len(eligible)) if len(eligible) > 1 else 0
    start = eligible[first][0]
    run: list[Span] = []
    for span in every:
        if span[0] < start:
            continue
        if not is_free((start, span[1]), regions):
            break
        if count_words(span, words):
            run.append(span)
    pool = list(data.switch_pool)
    english = rng.sample(pool, min(len(run), len(pool)))
    english += rng.choices(pool, k=len(run) - len(english))
    new = text
    for span, sentence in reversed(list(zip(run, english, strict=True))):
        new = splice(new, *span, sentence)
    return _first_kept(text, [lambda: new])


#: The recipes by kind, in ``CorruptionKind``'s order.
RECIPES: dict[CorruptionKind, Recipe] = {
    CorruptionKind.english_word: english_word,
    CorruptionKind.glued_english: glued_english,
    CorruptionKind.han_inside: han_inside,
    CorruptionKind.translit_sentence: translit_sentence,
    CorruptionKind.lookalike: lookalike,
    CorruptionKind.english_switch: english_switch,
}


@dataclass
class KindStats:
    """What became of the clean answers under one recipe: every answer lands in one field.

    >>> KindStats(made=2, not_applicable=1).total
    3
    """

    made: int = 0
    dropped_chosen_fails: int = 0
    dropped_rejected_passes: int = 0
    not_applicable: int = 0

    @property
    def total(self) -> int:
        return (
            self.made
            + self.dropped_chosen_fails
            + self.dropped_rejected_passes
            + self.not_applicable
        )


@dataclass
class CorruptionStats:
    """Counts of one ``corrupt_pairs`` run, per recipe kind."""

    answers: int = 0
    by_kind: dict[str, KindStats] = field(default_factory=dict)

    @property
    def made(self) -> int:
        return sum(k.made for k in self.by_kind.values())


def corruption_kinds(kinds: Iterable[str] | None) -> list[CorruptionKind]:
    """Kinds by name (all of them for None); an unknown name is an error listing the known.

    >>> corruption_kinds(["lookalike"])
    [<CorruptionKind.lookalike: 'lookalike'>]
    >>> corruption_kinds(["typo"])
    Traceback (most recent call last):
    ...
    ValueError: unknown corruption kind 'typo'; known: english_word, glued_english, \
han_inside, translit_sentence, lookalike, english_switch
    """
    if kinds is None:
        return list(CorruptionKind)
    known = ", ".join(CorruptionKind)
    chosen = []
    for kind in kinds:
        if kind not in CorruptionKind.__members__:
            raise ValueError(f"unknown corruption kind {kind!r}; known: {known}")
        chosen.append(CorruptionKind(kind))
    return chosen


def _last_user(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """What the checker takes as the prompt: the last user message.

    >>> _last_user([{"role": "user", "content": "Привет"}, {"role": "assistant", "content": "x"}])
    'Привет'
    """
    return next((str(m["content"]) for m in reversed(messages) if m.get("role") == "user"), None)


def _record(
    prompt: Sequence[Mapping[str, Any]], chosen: str, rejected: str, kind: str
) -> dict[str, Any]:
    return {
        "prompt": [dict(m) for m in prompt],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "kind": kind,
        "source": "corruption",
    }


def iter_corrupt_pairs(
    answers: Iterable[tuple[Sequence[Mapping[str, Any]], str]],
    stats: CorruptionStats,
    kinds: Iterable[str] | None = None,
    rng_seed: int = 0,
    lang: str = DEFAULT_LANG,
    preset: str = PresetName.standard.value,
) -> Iterator[dict[str, Any]]:
    """``corrupt_pairs`` one record at a time, counting into ``stats`` as it goes."""
    load_data(lang)  # a language without corruption data fails here, before any work
    policy = policy_for(lang, preset)
    chosen_kinds = corruption_kinds(kinds)
    for kind in chosen_kinds:
        stats.by_kind.setdefault(kind.value, KindStats())
    for index, (prompt, clean) in enumerate(answers):
        stats.answers += 1
        asked = _last_user(prompt)
        clean_ok = check(clean, policy=policy, prompt=asked).ok
        for kind in chosen_kinds:
            counts = stats.by_kind[kind.value]
            if not clean_ok:
                counts.dropped_chosen_fails += 1
                continue
            # One generator per answer and kind: a record does not depend on the others.
            rng = random.Random(f"{rng_seed}/{index}/{kind.value}")
            corrupted = RECIPES[kind](clean, rng, lang)
            if corrupted is None:
                counts.not_applicable += 1
            elif check(corrupted, policy=policy, prompt=asked).ok:
                counts.dropped_rejected_passes += 1
            else:
                counts.made += 1
                yield _record(prompt, clean, corrupted, kind.value)


def corrupt_pairs(
    answers: Iterable[tuple[Sequence[Mapping[str, Any]], str]],
    kinds: Iterable[str] | None = None,
    rng_seed: int = 0,
    lang: str = DEFAULT_LANG,
    preset: str = PresetName.standard.value,
) -> tuple[list[dict[str, Any]], CorruptionStats]:
    """TRL conversational preference records from clean answers, one per answer and kind.

    ``answers`` are ``(prompt_messages, clean_text)``. The chosen side is the clean answer,
    the rejected side its corruption; a record is kept only when the checker (the policy
    of ``lang`` and ``preset``) passes the chosen side and flags the rejected side. The
    rest are counted in the stats. The same seed gives the same records.

    >>> prompt = [{"role": "user", "content": "Как проверить мёд?"}]
    >>> pairs, stats = corrupt_pairs([(prompt, "Растворите мёд в воде.")], ["han_inside"])
    >>> pairs[0]["rejected"][0]["content"], pairs[0]["kind"], stats.made
    ('Раствор其中 мёд в воде.', 'han_inside', 1)
    """
    stats = CorruptionStats()
    records = list(iter_corrupt_pairs(answers, stats, kinds, rng_seed, lang, preset))
    return records, stats
