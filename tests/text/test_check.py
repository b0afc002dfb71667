"""The checker against POLICY.md: each kind, what is always allowed, presets, languages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import langlock
from langlock.policy import PresetName
from langlock.text.context import FIX_PROTECTED
from langlock.text.regions import Regions


def kinds(text: str, **kw: object) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in langlock.check(text, **kw).findings if f.major]  # type: ignore[arg-type]


# ------------------------------------------------------------------ flagged under standard


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("Это важный milestone проекта.", "foreign_word", "milestone"),
        ("Нужно использовать pipeline для данных.", "foreign_word", "pipeline"),
        ("Каждый prompt-а нужно проверять.", "foreign_word", "prompt-а"),
        ("Параметр функцииseed задаёт зерно.", "foreign_word", "функцииseed"),
        ("Здесь важно малоattention уделять.", "foreign_word", "малоattention"),
        ("Небо за厚厚的云层 скрыто.", "foreign_script", "厚厚的云层"),
        ("Группа **웜голы** выступила.", "foreign_script", "웜"),
        ("Уравнения Макcвелла просты.", "mixed_script", "Макcвелла"),
        ("Гимн ССCP звучал.", "mixed_script", "ССCP"),
        ("Слово отцe написано.", "mixed_script", "отцe"),
        ("при\u200bвет", "invisible", "\u200b"),
        ("Ответ готов.<|im_end|>", "special_token", "<|im_end|>"),
        ("Ответ готов.<end_of_turn>", "special_token", "<end_of_turn>"),
        ("Ответ [/INST] готов.", "special_token", "[/INST]"),
        ("Текст.### Instruction: ещё", "special_token", "### Instruction:"),
        ("privet, kak dela", "translit", "privet"),
        ("Большое spasibo за помощь.", "translit", "spasibo"),
    ],
)
def test_flags(text: str, kind: str, span: str) -> None:
    assert (kind, span) in kinds(text)


def test_wrong_language_line() -> None:
    text = "Хомякам нужна клетка.\nProviding regular exercise is important for your hamster.\nВсё."
    report = langlock.check(text)
    assert {f.line for f in report.findings if f.kind == "wrong_language"} == {2}
    assert report.bad_lines() == {2}


def test_ukrainian_line_in_russian_answer() -> None:
    text = "Вот ответ.\nЦе речення написане українською мовою і його треба помітити.\nКонец."
    assert any(f.kind == "wrong_language" and f.line == 2 for f in langlock.check(text).findings)


def test_repetition_loop() -> None:
    text = "Начало.\n" + "Одна и та же строка снова.\n" * 5 + "Конец."
    found = [f for f in langlock.check(text).findings if f.kind == "repetition"]
    assert found and found[0].line == 3


def test_phrase_loop_in_line() -> None:
    text = "Ответ: " + "и снова и снова " * 8
    assert any(f.kind == "repetition" for f in langlock.check(text).findings)


# ---------------------------------------------------------------------------- always allowed


@pytest.mark.parametrize(
    "text",
    [
        "Привет, как дела?",
        "Установите Docker и запустите SQL-запрос.",
        "Модель Qwen3 с LoRA на GPU через API.",
        "Купите iPhone'а чехол.",
        "Код: ```python\nprint('hello world, this is English')\n```",
        "Вызовите `load_dataset('squad')` и готово.",
        "Документация: https://example.com/path/to/page?query=english+words",
        "Пишите на admin@example.com.",
        "Файл лежит в /usr/local/bin/python3.",
        "Формула $\\alpha + \\beta$ и $E = mc^2$.",
        "Сложность O(n log n), а f(x) растёт.",
        "Углы α, β и число π.",
        "Частота 5 GHz, температура 20 °C, версия v2.1, № 5.",
        "Подпишитесь на #python и @openai.",
        "Кавычки «ёлочки», „лапки“ — тире – и многоточие…",
        "Эмодзи 👩‍💻 с соединителем.",
        "Строка с табуляцией\tи\r\nпереводом.",
        "Библиотеки pandas и numpy удобны.",
    ],
)
def test_clean(text: str) -> None:
    assert langlock.check(text).ok, langlock.check(text).findings


def test_gloss_is_minor_under_standard_major_under_strict() -> None:
    text = "Механизм внимания (attention) важен."
    std = langlock.check(text)
    assert std.ok and [f.severity for f in std.findings] == ["minor"]
    assert not langlock.check(text, preset="strict").ok


def test_prompt_awareness() -> None:
    prompt = "Объясни теорию относительности на английском языке."
    assert langlock.check("Everything is relative, said the teacher to the kids.", prompt=prompt).ok
    assert langlock.check("Слово 注ぐ значит «лить».", prompt="Запомнить слово 注ぐ").ok
    assert not langlock.check("Слово 注ぐ значит «лить».", prompt="Запомнить слово").ok
    assert langlock.check("Используйте pipeline здесь.", prompt="Что такое pipeline?").ok


def test_code_defines_identifiers() -> None:
    text = '```json\n{"name": "John"}\n```\nКлюч "name" хранит имя.'
    assert langlock.check(text).ok


# ------------------------------------------------------------------------------- presets


def test_presets() -> None:
    text = "Установите Docker и важный milestone."
    assert [f.text for f in langlock.check(text, preset="strict").findings] == [
        "Docker",
        "milestone",
    ]
    assert [f.text for f in langlock.check(text).findings] == ["milestone"]
    assert langlock.check(text, preset="lenient").ok
    assert not langlock.check("Макcвелла", preset="lenient").ok


def test_allow_list_and_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "langlock.toml"
    cfg.write_text('[langlock]\npreset = "strict"\nallow = ["Docker"]\n', encoding="utf-8")
    policy = langlock.Policy.from_options(config=cfg, allow=["Kubernetes"])
    assert policy.preset.name == "strict"
    assert langlock.check("Docker и Kubernetes.", policy=policy).ok
    with pytest.raises(ValueError, match="unknown preset"):
        langlock.Policy.from_options(preset="loose")
    with pytest.raises(ValueError, match="available"):
        langlock.Policy.from_options(lang="xx")


# ---------------------------------------------------------------------- other targets


def test_english_target() -> None:
    assert langlock.check("The weather is nice today.", lang="en").ok
    assert ("foreign_script", "Привет") in kinds("The word Привет means hello.", lang="en")
    assert ("foreign_script", "天气") in kinds("The 天气 is nice.", lang="en")
    report = langlock.check("Тhe word", lang="en")  # Cyrillic Т
    assert [(f.kind, f.fix) for f in report.findings] == [("mixed_script", "The")]


def test_ukrainian_target() -> None:
    assert langlock.check("Привіт, як справи? Це гарний день.", lang="uk").ok
    text = "Привіт.\nЭто предложение написано по-русски, а не по-украински.\nДякую."
    assert any(
        f.kind == "wrong_language" and f.line == 2 for f in langlock.check(text, lang="uk").findings
    )


# ----------------------------------------------------------------------------------- fix


def test_fix_explains_and_is_certain() -> None:
    fixed = langlock.fix("Макcвелла при\u200bвет<|im_end|>")
    assert fixed.text == "Максвелла привет"
    assert [c.kind for c in fixed.changes] == ["mixed_script", "invisible", "special_token"]
    assert all(c.reason for c in fixed.changes)
    assert fixed.remaining.ok


def test_fix_translit() -> None:
    assert langlock.fix("privet, kak dela").text == "привет, как дела"


def test_fix_leaves_uncertain_findings() -> None:
    fixed = langlock.fix("Важный milestone.")
    assert fixed.text == "Важный milestone." and not fixed.remaining.ok


def test_mac_roman_mojibake_acceptance() -> None:
    text = "–ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è"
    report = langlock.check(text)
    assert [f.kind for f in report.findings] == ["mojibake"]
    assert langlock.fix(text).text == "Как бороться"


# ------------------------------------------------------------------------ property tests

_pieces = st.sampled_from(
    [
        "Привет",
        " ",
        "мир",
        "milestone",
        "Docker",
        "\u200b",
        "\u200d",
        "👩‍💻",
        "中文",
        "`code`",
        "```\nx = 1\n```",
        "\n",
        "https://a.io/x",
        "Макcвелла",
        "<|im_end|>",
        "privet",
        "kak",
        "dela",
        "ÐŸÑ€Ð¸Ð²ÐµÑ‚",
        "–ö–∞–∫",
        "(attention)",
        "$x$",
        "\ufffd",
        "\x00",
        "é",
        "ß",
        "prompt-а",
        "функцииseed",
        "α",
        "ΣΩ",
        "\ud800",
        "🏳️‍🌈",
        "«",
        "»",
        "—",
        ".",
        ",",
    ]
)
_texts = st.one_of(
    st.lists(_pieces, max_size=30).map("".join),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec=None), max_size=100),
)
_fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fast
@given(_texts, st.sampled_from([p.value for p in PresetName]))
def test_offsets_match_text(text: str, preset: str) -> None:
    report = langlock.check(text, preset=preset)
    for f in report.findings:
        assert text[f.start : f.end] == f.text
        assert 1 <= f.line == text.count("\n", 0, f.start) + 1
        assert f.kind in langlock.KINDS and f.message


@_fast
@given(_texts)
def test_fix_is_idempotent(text: str) -> None:
    once = langlock.fix(text).text
    assert langlock.fix(once).text == once


@_fast
@given(_texts)
def test_fix_never_touches_protected_regions(text: str) -> None:
    fixed = langlock.fix(text)
    for s, e, kind in Regions.find(text).spans:
        if kind in FIX_PROTECTED:
            assert text[s:e] in fixed.text, (kind, text[s:e])


@pytest.mark.parametrize(
    "text",
    [
        "Для установки используйте pip install torch, затем импортируйте модуль.",
        'Команда git commit -m "fix" сохраняет изменения.',
        "Альбом The Dark Side of the Moon группы Pink Floyd.",
        "Роман (The Catcher in the Rye) написал Сэлинджер.",
        'Нажмите кнопку "Submit", чтобы отправить форму.',
        "Игры Dark Souls и Elden Ring созданы студией FromSoftware.",
    ],
)
def test_names_titles_and_commands_are_allowed(text: str) -> None:
    assert langlock.check(text).ok, langlock.check(text).findings


@pytest.mark.parametrize(
    ("text", "span"),
    [
        (
            "Вот код. Let me know if you have any questions!",
            "Let me know if you have any questions",
        ),
        ("Также, in other words, это одно и то же.", "in other words"),
        ("Hello! Чем могу помочь?", "Hello"),
        ("Используйте метод fine-tuning для адаптации.", "fine-tuning"),
        ("Группа BTS (Korean: 방탄소년단).", "Korean"),
    ],
)
def test_english_phrases_are_flagged(text: str, span: str) -> None:
    assert span in [f.text for f in langlock.check(text).findings if f.major]


def test_gloss_with_abbreviation_is_minor() -> None:
    report = langlock.check("Механизм внимания (англ. attention) важен.")
    assert report.ok and [f.severity for f in report.findings] == ["minor"]


def test_fix_keeps_a_url_that_an_earlier_fix_glued_to_a_word() -> None:
    fixed = langlock.fix("Приветprivet\u200bhttps://a.io/x\u200b")
    assert "https://a.io/x" in fixed.text


def test_fix_is_idempotent_around_a_fence_behind_an_invisible_character() -> None:
    text = "\u200b```\nx = 1\n```\n\u200b"
    once = langlock.fix(text).text
    assert once == "```\nx = 1\n```\n" and langlock.fix(once).text == once


def test_fix_is_idempotent_when_a_leaked_token_hides_a_fence() -> None:
    text = "<|im_end|>```\nx = 1\n```\n\u200b"
    once = langlock.fix(text).text
    assert langlock.fix(once).text == once


@pytest.mark.parametrize("text", ["Q\x10$тK$", "a\u200b`тK`", "x<|im_end|>$тK$ и $y$"])
def test_fix_keeps_a_region_whose_delimiter_a_fix_would_undo(text: str) -> None:
    """Removing the control character before ``$тK$`` made the math region stop being one,
    so a second fix changed what the first had protected (found by fuzzing)."""
    once = langlock.fix(text).text
    assert langlock.fix(once).text == once
    for s, e, kind in Regions.find(text).spans:
        if kind in FIX_PROTECTED:
            assert text[s:e] in once


def test_table_row_of_terms_is_not_a_wrong_language_line() -> None:
    text = "| Параметр | Значение |\n|---|---|\n| learning rate | 3e-4 |"
    assert "wrong_language" not in langlock.check(text).kinds()


def test_bulgarian_line_in_russian_answer() -> None:
    text = "Вот ответ.\nБългария е държава в Югоизточна Европа, член на Европейския съюз.\nВсё."
    found = [f for f in langlock.check(text).findings if f.kind == "wrong_language"]
    assert [f.line for f in found] == [2] and "Bulgarian" in found[0].message
    assert langlock.check("Подъезд, объявление и съезд.").ok  # Russian ъ before е, я


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Параметр timeout задаёт время ожидания.", True),
        ("Вызовите метод fit, затем predict.", False),  # «predict» is not named by a noun
        ("Используйте метод fine-tuning для адаптации.", False),
        ("Модель может hallucinate, если данных мало.", False),
        ("Попробуйте сделать refactoring кода.", False),
    ],
)
def test_identifiers_named_by_a_noun_and_rare_long_words(text: str, ok: bool) -> None:
    assert langlock.check(text).ok is ok


def test_prompt_words_do_not_excuse_a_whole_english_sentence() -> None:
    prompt = "Explain the theory of relativity for kids. Answer in Russian."
    text = "Время относительно.\nThe theory of relativity explains how time and space work."
    report = langlock.check(text, prompt=prompt)
    assert [f.kind for f in report.findings] == ["wrong_language"]
    assert langlock.check("Теория relativity проста.", prompt=prompt).ok  # a word it wrote


def test_a_long_word_of_many_seams_is_read_once_not_once_per_seam(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """«аbаb…» has a script seam at every letter: reading the whole word at each seam made
    one 8k-letter word take seconds (quadratic). Each word is read once."""
    from langlock.text.detectors import scripts

    calls: list[tuple[int, int]] = []
    bounds = scripts._token_bounds

    def counted(text: str, start: int, end: int) -> tuple[int, int]:
        calls.append((start, end))
        return bounds(text, start, end)

    monkeypatch.setattr(scripts, "_token_bounds", counted)
    result = langlock.check("аb" * 2000 + " и Макcвелла")
    assert len(calls) == 2
    assert [f.kind for f in result.findings].count("mixed_script") == 2
