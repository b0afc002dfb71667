"""The guard library: its decisions (driven by plain generator functions whose answers we
choose), its async twin, streaming checks (property-based), and a real model behind it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import langlock
from langlock.guarding import GuardConfig, aguard, guard
from langlock.guarding.core import offending_sentences
from langlock.guarding.stream import StreamCheck
from langlock.policy import Policy
from langlock.text.check import check

CLEAN = "Зимой солнце поднимается невысоко, поэтому день короткий."
HAN = "Зимой солнце 很低, поэтому день короткий."


class Scripted:
    """A generator that answers from a list and records every call it gets."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[list[dict[str, str]], dict[str, Any]]] = []

    def __call__(self, messages: list[dict[str, str]], **options: Any) -> str:
        self.calls.append((messages, options))
        return self.answers.pop(0)


def test_regenerate_corrects_and_retries_with_another_seed_and_cooler_temperature() -> None:
    model = Scripted(HAN, CLEAN)
    result = guard(model, attempts=3)("Почему зимой рано темнеет?", temperature=0.8, seed=5)
    assert result.verdict == "regenerated" and result.text == CLEAN and result.ok
    assert [a.purpose for a in result.attempts] == ["generate", "regenerate"]
    first, second = model.calls
    assert first[0][0]["role"] == "system" and "по-русски" not in first[0][-1]["content"]
    assert "很低" in second[0][0]["content"] and "чужой алфавит" in second[0][0]["content"]
    assert second[1] == {"temperature": 0.56, "seed": 6}
    assert result.added_seconds >= 0 and result.generations == 2


def test_annotate_passes_the_answer_through_with_its_findings() -> None:
    result = guard(Scripted(HAN), strategy="annotate")("Вопрос?")
    assert result.verdict == "failed" and result.text == HAN
    assert [f.kind for f in result.findings] == ["foreign_script"] and result.generations == 1


def test_block_never_returns_a_failing_answer() -> None:
    model = Scripted(HAN, HAN, "Hello, this is English.")
    result = guard(model, strategy="block", attempts=3)("Вопрос?", temperature=0.5)
    assert result.verdict == "blocked" and result.text is None and not result.ok
    assert result.generations == 3 and result.findings


def test_regenerate_gives_up_with_the_least_bad_answer() -> None:
    worst = "Hello world. 很低很低. Это milestone."
    result = guard(Scripted(worst, HAN), attempts=2)("Вопрос?")
    assert result.verdict == "failed" and result.text == HAN


def test_repair_applies_certain_fixes_without_asking_the_model_again() -> None:
    model = Scripted("Уравнения Макcвелла описывают поле.")
    result = guard(model, strategy="repair")("Что такое уравнения Максвелла?")
    assert result.verdict == "repaired" and result.text == "Уравнения Максвелла описывают поле."
    assert len(model.calls) == 1


def test_repair_rewrites_only_the_offending_sentence() -> None:
    answer = "Первое предложение. Это очень important вещь. Третье предложение."
    model = Scripted(answer, "«Это очень важная вещь.»")
    result = guard(model, strategy="repair")("Расскажи что-нибудь.")
    assert result.verdict == "repaired"
    assert result.text == "Первое предложение. Это очень важная вещь. Третье предложение."
    assert [a.purpose for a in result.attempts] == ["generate", "rewrite"]
    assert "important" in model.calls[1][0][-1]["content"]


def test_offending_sentences_are_found_by_finding_spans() -> None:
    text = "Хорошо.\nЭто 很好.\nКонец."
    assert [text[s:e] for s, e in offending_sentences(text, check(text))] == ["Это 很好."]


def test_async_guard_decides_the_same() -> None:
    answers = [HAN, CLEAN]

    async def model(messages: list[dict[str, str]], **options: Any) -> str:
        await asyncio.sleep(0)
        return answers.pop(0)

    result = asyncio.run(aguard(model)("Вопрос?"))
    assert result.verdict == "regenerated" and result.generations == 2


def test_guard_is_exported_lazily_and_checks_its_settings() -> None:
    assert langlock.guard is guard
    with pytest.raises(ValueError, match="unknown guard strategy"):
        GuardConfig(Policy.from_options(), "retry")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attempts"):
        GuardConfig(Policy.from_options(), attempts=0)


# ----------------------------------------------------------------- streaming checks

SENTENCES = [
    "Привет, как дела? ",
    "Солнце светит ярко.\n",
    "Это важный milestone проекта. ",
    "Зимой 很冷. ",
    "Код: `print(1)` работает.\n",
    "Установите Docker и Python. ",
    "\n",
]


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40),
    mode=st.sampled_from(["buffer", "cut"]),
)
def test_stream_releases_a_checked_prefix_whatever_the_chunking(
    parts: list[str], cuts: list[int], mode: str
) -> None:
    text = "".join(parts)
    stream = StreamCheck(Policy.from_options(), mode)  # type: ignore[arg-type]
    out, pos = [], 0
    for size in cuts * (len(text) // max(sum(cuts), 1) + 1):
        if pos >= len(text):
            break
        out.append(stream.push(text[pos : pos + size]))
        pos += size
    out.append(stream.finish())
    released = "".join(out)
    assert text.startswith(released) and released == text[: stream.released]
    if stream.stopped is None:
        assert released == text and check(text).ok
    else:
        # The finding reaches into held text (a loop may begin in text already out)…
        assert stream.stopped.major and stream.stopped.end > len(released)
        assert check(released).ok  # …and nothing that failed went out
    if mode == "buffer" and check(text).ok:
        assert released == text


def test_stream_resumes_after_a_cut_from_the_released_text() -> None:
    stream = StreamCheck(Policy.from_options(), "buffer")
    assert stream.push("Первое. Второе 很好. ") == "Первое. "
    assert stream.stopped is not None and stream.held == "Второе 很好. "
    stream.resume()
    assert stream.push("Второе хорошее. ") == "Второе хорошее. "
    assert stream.finish() == "" and stream.text == "Первое. Второе хорошее. "


def test_stream_repair_fixes_look_alike_letters_in_held_text() -> None:
    stream = StreamCheck(Policy.from_options(), "buffer", repair=True)
    out = stream.push("Уравнения Макcвелла описывают поле. ") + stream.finish()
    assert out == "Уравнения Максвелла описывают поле. " and stream.stopped is None
    assert [f.kind for f in stream.fixes] == ["mixed_script"]


def test_stream_keeps_a_long_code_block_in_view() -> None:
    code = "".join(f"    print('hello world number {n}')\n" for n in range(8))
    text = f"Пример:\n```python\ndef main():\n{code}```\nГотово, запустите программу.\n"
    for mode in ("buffer", "cut"):
        stream = StreamCheck(Policy.from_options(), mode)  # type: ignore[arg-type]
        out = "".join(stream.push(text[i : i + 3]) for i in range(0, len(text), 3))
        assert out + stream.finish() == text and stream.stopped is None, mode


# ----------------------------------------------------------------- a real model


@pytest.mark.slow
def test_guard_around_the_bundled_model() -> None:
    pytest.importorskip("llama_cpp")
    from langlock.eval.backends import LlamaCppBackend

    backend = LlamaCppBackend("bundled", n_ctx=2048)

    def generate(messages: list[dict[str, str]], temperature: float, seed: int) -> str:
        return backend.generate(messages, temperature=temperature, seed=seed, max_tokens=40).text

    guarded = guard(generate, attempts=3)
    for question in ("Почему небо голубое?", "Explain recursion briefly. Answer in Russian."):
        result = guarded(question, temperature=0.7, seed=3)
        assert 1 <= result.generations <= 3
        final = check(result.text or "", prompt=question)
        assert final.ok == result.ok  # the verdict is the checker's on the returned text
