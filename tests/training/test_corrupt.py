"""The corruption recipes: each makes one flagged slip, edits little, leaves protected
regions alone and is deterministic for a seed; ``corrupt_pairs`` keeps only records whose
chosen side passes and whose rejected side fails the checker, and counts the rest."""

from __future__ import annotations

import dataclasses
import difflib
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import langlock
from langlock.policy import load_profile, policy_for
from langlock.text.regions import Regions
from langlock.text.scripts import script_of
from langlock.training.corrupt import (
    EXPECTED_FINDINGS,
    RECIPES,
    CorruptionKind,
    corrupt_pairs,
)
from langlock.training.corrupt_data import load_data, sentences, spell

SAMPLES: dict[str, str] = {
    "prose": (
        "Настоящий мёд со временем кристаллизуется, и это нормально. Подделка часто "
        "остаётся жидкой много месяцев. Чтобы проверить мёд, растворите ложку в стакане "
        "тёплой воды. Если на дне появился осадок, в мёде есть примеси."
    ),
    "list": (
        "Вот несколько простых шагов:\n\n"
        "1. Промойте рис в холодной воде.\n"
        "2. Залейте его водой в пропорции один к двум.\n"
        "3. Варите на медленном огне около пятнадцати минут.\n"
        "4. Дайте рису постоять под крышкой.\n\n"
        "Так рис получится рассыпчатым."
    ),
    "code": (
        "Чтобы прочитать файл построчно, используйте цикл. Вот простой пример:\n\n"
        "```python\n"
        'with open("data.txt", encoding="utf-8") as f:\n'
        "    for line in f:\n"
        "        print(line.strip())  # печатаем строку\n"
        "```\n\n"
        "Подробности есть в документации: https://docs.python.org/3/tutorial/inputoutput.html. "
        "Обратите внимание на кодировку: без неё файл может прочитаться неправильно."
    ),
    "inline": (
        "Модель обучается на размеченных данных. Функция потерь показывает, насколько "
        "ответы модели далеки от правильных. Параметр `learning_rate` задаёт размер шага "
        "оптимизатора. Если шаг слишком большой, обучение становится нестабильным."
    ),
    "winter": (
        "Зимой стекло остывает сильнее, чем воздух в комнате. Влага из воздуха замерзает "
        "на холодной поверхности и образует кристаллы. Так на стёклах появляются морозные "
        "узоры."
    ),
    "markdown": (
        "## Как выбрать ноутбук\n\n"
        "**Процессор.** Для работы с документами хватит недорогой модели.\n\n"
        "**Память.** Лучше взять не меньше шестнадцати гигабайт.\n\n"
        "**Экран.** Матовое покрытие меньше бликует на солнце."
    ),
}
SEEDS = range(10)
#: Share of outputs (samples x seeds) that must carry the recipe's own finding kind. The
#: checker takes a title-case English word at a sentence start, or one after a cue such
#: as «функция», for a name, and reads some Latin sentences as English rather than
#: transliterated Russian: those slips are real but flagged otherwise or not at all.
MIN_EXPECTED = {
    CorruptionKind.english_word: 0.95,
    CorruptionKind.glued_english: 1.0,
    CorruptionKind.han_inside: 1.0,
    CorruptionKind.translit_sentence: 0.8,
    CorruptionKind.lookalike: 1.0,
    CorruptionKind.english_switch: 1.0,
}
#: Recipes that change one word (one whitespace-separated token) and nothing else.
ONE_WORD = (
    CorruptionKind.english_word,
    CorruptionKind.glued_english,
    CorruptionKind.han_inside,
    CorruptionKind.lookalike,
)


def corrupt(kind: CorruptionKind, text: str, seed: int) -> str | None:
    return RECIPES[kind](text, random.Random(seed))


@pytest.fixture(scope="module")
def outputs() -> dict[tuple[CorruptionKind, str, int], str | None]:
    return {
        (kind, name, seed): corrupt(kind, text, seed)
        for kind in CorruptionKind
        for name, text in SAMPLES.items()
        for seed in SEEDS
    }


def protected_texts(text: str) -> list[str]:
    return [text[s:e] for s, e, _ in Regions.find(text).spans]


def tokens(text: str) -> list[str]:
    return re.split(r"\s+", text)


def test_the_samples_are_clean() -> None:
    for name, text in SAMPLES.items():
        assert langlock.check(text).findings == [], name


def test_registry_covers_every_kind() -> None:
    assert list(RECIPES) == list(CorruptionKind) == list(EXPECTED_FINDINGS)
    assert all(callable(r) for r in RECIPES.values())


@pytest.mark.parametrize("kind", list(CorruptionKind))
def test_every_recipe_applies_to_every_sample(kind: CorruptionKind, outputs: dict) -> None:
    for name in SAMPLES:
        for seed in SEEDS:
            out = outputs[kind, name, seed]
            assert out is not None and out != SAMPLES[name], (name, seed)


@pytest.mark.parametrize("kind", list(CorruptionKind))
def test_outputs_are_flagged_with_the_recipes_finding(kind: CorruptionKind, outputs: dict) -> None:
    reports = {
        (name, seed): langlock.check(outputs[kind, name, seed])
        for name in SAMPLES
        for seed in SEEDS
    }
    expected = [key for key, r in reports.items() if r.kinds() & EXPECTED_FINDINGS[kind]]
    missed = {key: [(f.kind, f.text) for f in r.findings] for key, r in reports.items()}
    missed = {k: v for k, v in missed.items() if k not in expected}
    assert len(expected) / len(reports) >= MIN_EXPECTED[kind], missed
    # Whatever the kind, a finding of the recipe's kind is always a failing one.
    for r in reports.values():
        hits = [f for f in r.findings if f.kind in EXPECTED_FINDINGS[kind]]
        assert not hits or not r.ok


@pytest.mark.parametrize("kind", ONE_WORD)
def test_word_recipes_change_one_word(kind: CorruptionKind, outputs: dict) -> None:
    for name, text in SAMPLES.items():
        for seed in SEEDS:
            out = outputs[kind, name, seed]
            before, after = tokens(text), tokens(out)
            assert len(before) == len(after), (name, seed, out)
            changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
            assert len(changed) == 1, (name, seed, changed)
            assert difflib.SequenceMatcher(None, text, out, autojunk=False).ratio() > 0.9


def test_lookalike_swaps_one_or_two_letters_for_latin_twins(outputs: dict) -> None:
    twins = load_data("ru").lookalike
    for name, text in SAMPLES.items():
        for seed in SEEDS:
            out = outputs[CorruptionKind.lookalike, name, seed]
            assert len(out) == len(text)
            swapped = [(a, b) for a, b in zip(text, out, strict=True) if a != b]
            assert 1 <= len(swapped) <= 2
            assert all(twins[a] == b for a, b in swapped)


def test_english_word_puts_the_words_english_equivalent(outputs: dict) -> None:
    words = load_data("ru").words
    for name, text in SAMPLES.items():
        for seed in SEEDS:
            out = outputs[CorruptionKind.english_word, name, seed]
            old, new = next(
                (a, b) for a, b in zip(tokens(text), tokens(out), strict=True) if a != b
            )
            ru = re.sub(r"\W", "", old).lower()
            assert new == old.replace(re.sub(r"\W", "", old), _cased(words[ru], old)), (old, new)


def _cased(english: str, like: str) -> str:
    return english.capitalize() if like[:1].isupper() else english


def test_han_inside_adds_han_characters_only(outputs: dict) -> None:
    for name, text in SAMPLES.items():
        for seed in SEEDS:
            out = outputs[CorruptionKind.han_inside, name, seed]
            added = [c for c in out if script_of(c) == "Han"]
            assert added, (name, seed)
            assert set(out) - set(text) <= set(added)


def test_translit_rewrites_one_sentence_by_a_scheme(outputs: dict) -> None:
    data = load_data("ru")
    for name, text in SAMPLES.items():
        for seed in SEEDS:
            out = outputs[CorruptionKind.translit_sentence, name, seed]
            remakes = {
                text[:s] + spell(text[s:e], spelling) + text[e:]
                for s, e in sentences(text)
                for spelling in data.spellings.values()
            }
            assert out in remakes, (name, seed, out)


def test_english_switch_keeps_the_prefix_before_sentence_k(outputs: dict) -> None:
    pool = load_data("ru").switch_pool
    for name, text in SAMPLES.items():
        starts = [s for s, _ in sentences(text)]
        for seed in SEEDS:
            out = outputs[CorruptionKind.english_switch, name, seed]
            k = next(i for i, (a, b) in enumerate(zip(text, out, strict=False)) if a != b)
            # The first change is where some sentence starts: it opens an English sentence.
            k = max(s for s in starts if s <= k)
            assert out[:k] == text[:k]
            assert any(out[k:].startswith(p) for p in pool), (name, seed, out[k:])
            # The prefix is not empty where the answer has more than one sentence.
            assert k > 0


def test_english_switch_stops_at_a_code_block() -> None:
    text = SAMPLES["code"]
    block = text[text.index("```") : text.rindex("```") + 3]
    for seed in SEEDS:
        out = corrupt(CorruptionKind.english_switch, text, seed)
        head, tail = text.split(block)
        if out.startswith(head):  # the switch came after the block
            assert out.split(block)[0] == head
        else:  # it came before the block: what follows the block is the original
            assert out.endswith(block + tail)


@pytest.mark.parametrize("kind", list(CorruptionKind))
def test_protected_regions_stay_as_they_are(kind: CorruptionKind, outputs: dict) -> None:
    url = "https://docs.python.org/3/tutorial/inputoutput.html"
    code = SAMPLES["code"][SAMPLES["code"].index("```") : SAMPLES["code"].rindex("```") + 3]
    for name, text in SAMPLES.items():
        for seed in SEEDS:
            out = outputs[kind, name, seed]
            assert protected_texts(out) == protected_texts(text), (name, seed)
    for seed in SEEDS:
        out = outputs[kind, "code", seed]
        assert code in out and url in out and "`learning_rate`" in outputs[kind, "inline", seed]


@pytest.mark.parametrize("kind", list(CorruptionKind))
def test_recipes_are_deterministic_for_a_seed(kind: CorruptionKind, outputs: dict) -> None:
    for name, text in SAMPLES.items():
        assert corrupt(kind, text, 3) == outputs[kind, name, 3]
        assert len({outputs[kind, name, seed] for seed in SEEDS}) > 1, name


@pytest.mark.parametrize("kind", list(CorruptionKind))
def test_nothing_to_work_on_gives_none(kind: CorruptionKind) -> None:
    for text in ("", "12345 678.", "```\nкод внутри блока кода\n```", "https://example.com/путь"):
        assert corrupt(kind, text, 0) is None


_PIECES = st.one_of(
    st.sampled_from(
        [
            "Модель",
            "модель",
            "данные",
            "очень",
            "важный",
            "шаг",
            "Зимой",
            "стекло",
            "и",
            "в",
            "мёд",
            "ДАННЫЕ",
            "Python",
            "SQL-запрос",
            ".",
            ",",
            ":",
            "!",
            "\n",
            "\n\n",
            "- ",
            "1. ",
            "## ",
            "**",
            "`x = 1`",
            "```py\nprint('модель')\n```",
            "```\nданные шаг\n",
            "https://example.com/модель",
            "f(x)",
            "$a + b$",
        ]
    ),
    st.text(max_size=8),
)
_ANSWERS = st.lists(_PIECES, max_size=30).map(" ".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200), kind=st.sampled_from(list(CorruptionKind)), seed=st.integers())
def test_recipes_never_raise_on_arbitrary_text(text: str, kind: CorruptionKind, seed: int) -> None:
    out = corrupt(kind, text, seed)
    assert out is None or (isinstance(out, str) and out != text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_ANSWERS, kind=st.sampled_from(list(CorruptionKind)), seed=st.integers(0, 2**32))
def test_recipes_never_alter_code_or_other_regions(
    text: str, kind: CorruptionKind, seed: int
) -> None:
    out = corrupt(kind, text, seed)
    assert out is None or out != text
    if out is not None:
        regions = Regions.find(text)
        code = [text[s:e] for s, e in regions.code_spans()]
        assert [out[s:e] for s, e in Regions.find(out).code_spans()] == code
        assert protected_texts(out) == protected_texts(text)


# --- corrupt_pairs ---------------------------------------------------------------------

PROMPT = [{"role": "user", "content": "Расскажи подробно."}]
DIRTY = "Это важный milestone проекта."
NOTHING = "12345 678."


def answers() -> list[tuple[list[dict[str, str]], str]]:
    return [(PROMPT, t) for t in SAMPLES.values()] + [(PROMPT, DIRTY), (PROMPT, NOTHING)]


@pytest.fixture(scope="module")
def made() -> tuple[list[dict], object]:
    return corrupt_pairs(answers(), kinds=list(CorruptionKind), rng_seed=7)


def test_stats_add_up(made: tuple) -> None:
    records, stats = made
    n = len(answers())
    assert stats.answers == n
    assert set(stats.by_kind) == {k.value for k in CorruptionKind}
    for kind, counts in stats.by_kind.items():
        assert counts.total == n, kind
        assert counts.dropped_chosen_fails == 1  # DIRTY
        assert counts.not_applicable >= 1  # NOTHING
    assert stats.made == len(records)
    assert sum(1 for r in records if r["kind"] == "lookalike") == stats.by_kind["lookalike"].made
    plain = dataclasses.asdict(stats)
    assert plain["by_kind"]["lookalike"]["made"] == stats.by_kind["lookalike"].made


def test_every_record_has_a_passing_chosen_and_a_flagged_rejected(made: tuple) -> None:
    records, _ = made
    policy = policy_for("ru", "standard")
    assert len(records) >= 5 * len(CorruptionKind)
    for r in records:
        assert set(r) == {"prompt", "chosen", "rejected", "kind", "source"}
        assert r["prompt"] == PROMPT and r["source"] == "corruption"
        assert r["kind"] in {k.value for k in CorruptionKind}
        (chosen,), (rejected,) = r["chosen"], r["rejected"]
        assert chosen["role"] == rejected["role"] == "assistant"
        assert chosen["content"] in SAMPLES.values()
        asked = PROMPT[-1]["content"]
        assert langlock.check(chosen["content"], policy=policy, prompt=asked).ok
        assert not langlock.check(rejected["content"], policy=policy, prompt=asked).ok


def test_pairs_are_deterministic_and_independent_of_the_kinds_asked(made: tuple) -> None:
    records, _ = made
    again, _ = corrupt_pairs(answers(), kinds=list(CorruptionKind), rng_seed=7)
    assert again == records
    only, stats = corrupt_pairs(answers(), kinds=["han_inside"], rng_seed=7)
    assert only == [r for r in records if r["kind"] == "han_inside"]
    assert set(stats.by_kind) == {"han_inside"}
    other, _ = corrupt_pairs(answers(), kinds=list(CorruptionKind), rng_seed=8)
    assert other != records


def test_a_slip_the_prompt_asks_for_is_dropped() -> None:
    prompt = [{"role": "user", "content": "Что значит слово important?"}]
    _, stats = corrupt_pairs([(prompt, "Это очень важный шаг.")], ["english_word"], rng_seed=1)
    counts = stats.by_kind["english_word"]
    assert counts.total == 1
    assert counts.dropped_rejected_passes + counts.made == 1


def test_unknown_kinds_and_languages_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown corruption kind 'typo'"):
        corrupt_pairs(answers(), kinds=["typo"])
    with pytest.raises(FileNotFoundError, match=r"corrupt_uk\.toml"):
        corrupt_pairs(answers(), lang="uk")
    with pytest.raises(FileNotFoundError, match=r"corrupt_uk\.toml"):
        RECIPES[CorruptionKind.lookalike]("Привет", random.Random(0), "uk")


# --- the data file -----------------------------------------------------------------------


def test_the_data_holds_what_the_recipes_need() -> None:
    data = load_data("ru")
    assert len(data.words) >= 300
    assert len(data.switch_pool) >= 40 and len(set(data.switch_pool)) == len(data.switch_pool)
    letters = set(data.letters)
    assert all(set(ru) <= letters and ru == ru.lower() for ru in data.words)
    assert all(re.fullmatch(r"[a-z]+", en) for en in data.words.values())
    assert all(set(s) <= letters for s in (*data.suffixes, *data.prefixes))
    assert data.han_pool and all(script_of(c) == "Han" for w in data.han_pool for c in w)
    assert all(script_of(c) == "Han" for w in data.han_words.values() for c in w)


def test_every_english_word_is_flagged_in_russian_prose() -> None:
    missed = [
        en
        for en in sorted(set(load_data("ru").words.values()))
        if "foreign_word" not in langlock.check(f"Мы обсудили {en} вчера вечером.").kinds()
    ]
    assert not missed


def test_every_switch_sentence_is_flagged_after_russian() -> None:
    for sentence in load_data("ru").switch_pool:
        report = langlock.check(f"Это важный шаг. {sentence}")
        assert report.kinds() & {"wrong_language", "foreign_word"} and not report.ok, sentence


def test_lookalikes_are_the_profiles_homoglyphs_read_backwards() -> None:
    homoglyphs = load_profile("ru").homoglyphs
    for cyrillic, latin in load_data("ru").lookalike.items():
        assert script_of(cyrillic) == "Cyrillic" and script_of(latin) == "Latin"
        assert homoglyphs[latin] == cyrillic


def test_every_scheme_spells_every_letter_in_latin() -> None:
    data = load_data("ru")
    assert set(data.spellings) == set(data.spelling_weights) and "informal" in data.spellings
    for spelling in data.spellings.values():
        spelled = spell(data.letters, spelling)
        assert all(script_of(c) != "Cyrillic" for c in spelled), (spelling.name, spelled)
        assert "`" not in spelled  # a backtick would open inline code
