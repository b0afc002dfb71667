"""The lock at generation time: state tracking, the llama.cpp processor, the real model."""

from __future__ import annotations

import math

import pytest

from langlock.decoding.lock import LlamaCppLock, LockState
from langlock.decoding.token_bytes import TokenTable
from langlock.policy import Policy

np = pytest.importorskip("numpy")


def toy_lock() -> LlamaCppLock:
    pieces = (b"", "при".encode(), "中".encode(), b"\xe5", b"\xd0", b"\xbf", b"hi", b"```\n")
    table = TokenTable(pieces, frozenset({0}), "sentencepiece")
    return LlamaCppLock(table, Policy.from_options(preset="strict"))


def test_state_follows_partial_bytes_and_fences() -> None:
    state = LockState()
    state.feed(b"\xd0")
    assert state.pending == b"\xd0" and state.mode == "prose"
    state.feed(b"\xbf\n```\n")
    assert state.pending == b"" and state.mode == "code"
    state.feed(b"x = 1\n```\n")
    assert state.mode == "prose"


def test_processor_masks_in_place_and_never_masks_special_or_padding() -> None:
    lock = toy_lock()
    prompt = np.array([7, 7])
    scores = np.zeros(10, dtype=np.float32)  # the row is wider than the table
    out = lock(prompt, scores)
    assert out is scores
    banned = [bool(math.isinf(v)) for v in scores[:8]]
    # EOS, Cyrillic, a Cyrillic lead byte and a fence pass; Han, a Han lead byte, a lone
    # continuation byte and Latin (strict prose) do not.
    assert banned == [False, False, True, True, False, True, True, False]
    assert np.isfinite(scores[8:]).all()
    # After <0xD0> only its completion (and EOS) may follow.
    scores = np.zeros(10, dtype=np.float32)
    lock(np.array([7, 7, 4]), scores)
    assert {int(i) for i in np.flatnonzero(np.isfinite(scores[:8]))} == {0, 5}


def test_all_masked_row_falls_back_unmasked(caplog: pytest.LogCaptureFixture) -> None:
    lock = toy_lock()
    scores = np.full(8, -math.inf, dtype=np.float32)
    scores[2] = 1.0  # only a banned token is left
    out = lock(np.array([7]), scores)
    assert out[2] == 1.0 and not np.isnan(out).any()
    assert "every token is banned" in caplog.text


PROMPTS = [
    "Расскажи о Москве.",
    "Что такое нейронная сеть?",
    "Как приготовить борщ?",
    "Почему небо голубое?",
    "Напиши короткое стихотворение об осени.",
    "Объясни, что такое инфляция.",
    "Какие планеты есть в Солнечной системе?",
    "Как ухаживать за кошкой?",
    "Что такое фотосинтез?",
    "Расскажи сказку про лису.",
    "Как выучить иностранный язык?",
    "Почему зимой холодно?",
    "Что такое блокчейн?",
    "Как работает двигатель автомобиля?",
    "Посоветуй книгу для отпуска.",
    "Что такое чёрная дыра?",
    "Как начать бегать по утрам?",
    "Опиши свой идеальный день.",
    "Чем полезны овощи?",
    "Как устроен интернет?",
    "Кто такой Пушкин?",
    "Что такое искусственный интеллект?",
    "Как справиться со стрессом?",
    "Почему важно спать?",
    "Расскажи о Байкале.",
    "Что такое квантовый компьютер?",
    "Как сэкономить деньги?",
    "Что нужно взять в поход?",
    "Как научиться играть на гитаре?",
    "Напиши поздравление с днём рождения.",
]


@pytest.mark.slow
def test_bundled_model_under_the_lock_stays_in_russian() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    import langlock
    from langlock.decoding.bundled import bundled_model_path, gemma_turns
    from langlock.decoding.lock import lock_llama

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False)
    lock = lock_llama(llama, preset="strict")
    for seed, prompt in enumerate(PROMPTS):
        lock.reset()
        out = llama(
            gemma_turns(prompt),
            max_tokens=32,
            temperature=0.8,
            seed=seed,
            stop=["<end_of_turn>"],
            logits_processor=llama_cpp.LogitsProcessorList([lock]),
        )
        text = out["choices"][0]["text"]
        bad = [
            f
            for f in langlock.check(text, preset="strict").findings
            if f.kind in ("foreign_script", "mixed_script")
            or (f.kind == "foreign_word" and any("a" <= c.lower() <= "z" for c in f.text))
        ]
        assert not bad, (prompt, text, bad)


@pytest.mark.slow
def test_generate_command_locked() -> None:
    pytest.importorskip("llama_cpp")
    from typer.testing import CliRunner

    from langlock.cli import app

    result = CliRunner().invoke(
        app, ["generate", "Почему небо голубое?", "--lock", "--max-tokens", "24", "--findings"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip()
    assert not any("\u4e00" <= c <= "\u9fff" for c in result.output)


def test_generate_command_reports_a_missing_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    from typer.testing import CliRunner

    from langlock.cli import app

    result = CliRunner().invoke(app, ["generate", "Привет", "--model", str(tmp_path / "x.gguf")])
    assert result.exit_code == 2 and "no model file" in result.output


@pytest.mark.slow
def test_bundled_model_under_the_lock_may_write_latin_in_a_fence() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from langlock.decoding.bundled import bundled_model_path, gemma_turns
    from langlock.decoding.lock import lock_llama

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False)
    lock = lock_llama(llama, preset="strict")
    # Start the answer inside a fence, as a model asked for code would: Latin may follow.
    prompt = gemma_turns("Напиши функцию на Python, которая складывает два числа.")
    prompt += "```python\ndef"
    out = llama(
        prompt,
        max_tokens=24,
        temperature=0.0,
        logits_processor=llama_cpp.LogitsProcessorList([lock]),
    )
    code = out["choices"][0]["text"]
    assert any("a" <= c.lower() <= "z" for c in code), code
