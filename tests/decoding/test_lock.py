"""The lock at generation time: state tracking, the llama.cpp processor, the real model."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")

from langlock.decoding.llama_cpp import LlamaCppLock  # noqa: E402
from langlock.decoding.state import LockMasks, LockState  # noqa: E402
from langlock.decoding.token_bytes import TokenTable  # noqa: E402
from langlock.policy import Policy  # noqa: E402

PIECES = (b"", "при".encode(), "中".encode(), b"\xe5", b"\xd0", b"\xbf", b"hi", b"```\n")


def toy_masks(preset: str = "strict", pieces: tuple[bytes, ...] = PIECES) -> LockMasks:
    table = TokenTable(pieces, frozenset({0}), "sentencepiece")
    return LockMasks(table, Policy.from_options(preset=preset), use_cache=False)


def toy_lock() -> LlamaCppLock:
    return LlamaCppLock(toy_masks())


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


def test_all_masked_row_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    lock = toy_lock()
    scores = np.full(8, -math.inf, dtype=np.float32)
    scores[2] = 1.0  # only a banned token is left: the answer may only end
    out = lock(np.array([7]), scores)
    assert np.flatnonzero(np.isfinite(out)).tolist() == [0]
    assert "every allowed token is banned" in caplog.text


def test_an_error_inside_a_step_ends_the_answer_and_is_raised_after(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langlock.decoding.llama_cpp import LockFailure

    lock = LlamaCppLock(toy_masks(), end_ids=(0,))

    def broken(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(lock.masks, "row", broken)
    scores = np.zeros(8, dtype=np.float32)
    assert lock(np.array([7]), scores) is scores  # no exception escapes into ctypes
    assert np.flatnonzero(np.isfinite(scores)).tolist() == [0]
    assert "the lock failed" in caplog.text
    with pytest.raises(LockFailure, match=r"1 step.*boom"):
        lock.raise_failures()
    lock.raise_failures()  # reported once


def test_the_lock_is_a_processor_list_of_itself() -> None:
    lock = toy_lock()
    assert list(lock) == [lock] and len(lock) == 1


def test_a_longer_new_prompt_is_a_new_generation() -> None:
    """The reuse hole: an answer cut inside a fence, then another call with a longer prompt.
    A length test took the new prompt for a continuation and kept the code state."""
    lock = toy_lock()
    lock(np.array([0, 7]), np.zeros(8, dtype=np.float32))  # the answer opens a fence ...
    scores = np.zeros(8, dtype=np.float32)
    lock(np.array([0, 7, 6]), scores)  # ... writes code (Latin allowed) and is cut
    assert math.isfinite(scores[6])
    scores = np.zeros(8, dtype=np.float32)
    lock(np.array([0, 1, 1, 1, 1, 0]), scores)  # a new, longer prompt: prose again
    assert math.isinf(scores[6])
    scores = np.zeros(8, dtype=np.float32)
    lock(np.array([0, 1, 1, 1, 1, 0, 7]), scores)  # its own steps go on from there
    assert math.isfinite(scores[6])


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

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False)
    lock = langlock.lock(llama, preset="strict")
    for seed, prompt in enumerate(PROMPTS):
        lock.reset()
        out = llama(
            gemma_turns(prompt),
            max_tokens=64,
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
    from langlock.decoding import lock
    from langlock.decoding.bundled import bundled_model_path, gemma_turns

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False)
    locked = lock(llama, preset="strict")
    # Start the answer inside a fence, as a model asked for code would: Latin may follow.
    prompt = gemma_turns("Напиши функцию на Python, которая складывает два числа.")
    prompt += "```python\ndef"
    out = llama(
        prompt,
        max_tokens=24,
        temperature=0.0,
        logits_processor=llama_cpp.LogitsProcessorList([locked]),
    )
    code = out["choices"][0]["text"]
    assert any("a" <= c.lower() <= "z" for c in code), code


def test_url_scheme_opens_latin_in_strict_prose() -> None:
    pieces = (b"", "при".encode(), b" https", b"://", b"example", b".com", b"hi", b" ", b"www")
    masks = toy_masks(pieces=pieces)
    state = LockState()
    masks.advance(state, [1, 7])
    allowed = set(masks.row(masks.key(state), len(pieces)).ids.tolist())
    assert {2, 8} <= allowed and 4 not in allowed and 6 not in allowed
    masks.advance(state, [2])
    assert state.scheme_tail == "https"
    allowed = set(masks.row(masks.key(state), len(pieces)).ids.tolist())
    assert 3 in allowed and 6 not in allowed  # only the scheme may go on
    masks.advance(state, [3])
    assert state.mode == "url"
    assert {4, 5, 6} <= set(masks.row(masks.key(state), len(pieces)).ids.tolist())
    masks.advance(state, [4, 5, 7])  # a space ends the URL: back to strict prose
    assert state.mode == "prose"
    assert 6 not in set(masks.row(masks.key(state), len(pieces)).ids.tolist())


def test_standard_penalises_latin_in_prose_but_not_in_code() -> None:
    masks = toy_masks("standard")
    prose = masks.row(masks.key(LockState()), len(PIECES))
    assert prose.penalty[6] == pytest.approx(-2.0) and prose.penalty[1] == 0.0
    assert math.isinf(prose.penalty[2])  # Han stays banned
    code_state = LockState()
    masks.advance(code_state, [7])
    code = masks.row(masks.key(code_state), len(PIECES))
    assert code.penalty[6] == 0.0
    tuned = LockMasks(masks.table, Policy.from_options(preset="standard"), latin_bias=-5.0)
    assert tuned.row(tuned.key(LockState()), len(PIECES)).penalty[6] == pytest.approx(-5.0)


def test_unknown_script_is_a_clear_error() -> None:
    from langlock.decoding import lock

    with pytest.raises(ValueError, match="unknown script 'Klingon'"):
        lock(object(), allow_scripts=("Klingon",))
    with pytest.raises(TypeError, match="cannot lock a object"):
        lock(object())


def _han_ids(llama) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """Gemma's whole «中» token, and the byte-fallback tokens <0xE4>, <0xB8>, <0xAD>."""
    from langlock.decoding.llama_cpp import table_for_llama

    table = table_for_llama(llama)
    whole = table.pieces.index("中".encode())
    return whole, [table.pieces.index(bytes([b])) for b in "中".encode()]


@pytest.mark.slow
def test_forced_han_bytes_cannot_get_through_the_lock() -> None:
    """Push «中» and its three byte tokens up by +40 through ``logit_bias``: unlocked, the
    model writes Han; locked (the bias moved into the lock by ``completion_kwargs``, where
    llama-cpp-python would otherwise drop the processor), neither whole nor piecewise Han
    gets through, and no broken character either."""
    llama_cpp = pytest.importorskip("llama_cpp")
    from langlock.decoding import lock
    from langlock.decoding.bundled import bundled_model_path, gemma_turns

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False)
    whole, byte_ids = _han_ids(llama)
    prompt = gemma_turns("Расскажи о Москве.")
    unlocked = llama(prompt, max_tokens=8, temperature=0.0, logit_bias={whole: 40.0})
    assert "中" in unlocked["choices"][0]["text"]
    locked = lock(llama, preset="strict")
    for forced in ({whole: 40.0}, dict.fromkeys(byte_ids, 40.0)):
        for seed in range(3):
            kwargs = locked.completion_kwargs(
                max_tokens=16, temperature=0.8, seed=seed, logit_bias=forced
            )
            text = llama(prompt, **kwargs)["choices"][0]["text"]
            assert text.strip(), forced
            assert not any("\u4e00" <= c <= "\u9fff" or c == "\ufffd" for c in text), text
    # A user whose prompt asks for Chinese opens Han: the same push now gets through.
    opened = lock(llama, preset="strict", allow_scripts=("Han",))
    kwargs = opened.completion_kwargs(max_tokens=8, temperature=0.0, logit_bias={whole: 40.0})
    assert "中" in llama(prompt, **kwargs)["choices"][0]["text"]


@pytest.mark.slow
def test_generate_command_allows_a_script_on_request() -> None:
    pytest.importorskip("llama_cpp")
    from typer.testing import CliRunner

    from langlock.cli import app

    bad = CliRunner().invoke(app, ["generate", "Привет", "--lock", "--allow-script", "Klingon"])
    assert bad.exit_code == 2 and "unknown script" in bad.output
    result = CliRunner().invoke(
        app,
        [
            *("generate", "Как сказать «спасибо» по-китайски?", "--lock"),
            *("--allow-script", "han", "--max-tokens", "24", "--temperature", "0"),
        ],
    )
    assert result.exit_code == 0, result.output


def test_open_native_opens_the_answer_and_lines_after_bare_ones_in_the_language() -> None:
    table = TokenTable((*PIECES, " при".encode(), b"\n", b"1."), frozenset({0}), "sentencepiece")
    masks = LockMasks(
        table, Policy.from_options(preset="strict"), use_cache=False, open_native=True
    )
    state = LockState()
    opening = set(masks.row(masks.key(state), len(table)).ids.tolist())
    assert opening == {0, 1, 4, 8}  # EOS, «при», a Cyrillic lead byte, « при»
    masks.advance(state, [9])  # a newline opens nothing
    assert set(masks.row(masks.key(state), len(table)).ids.tolist()) == opening
    masks.advance(state, [1])
    after = set(masks.row(masks.key(state), len(table)).ids.tolist())
    assert {7, 9, 10} <= after  # once the answer has begun, lists, fences and lines are free
    masks.advance(state, [9, 10, 9])  # a line of no letters («1.») is allowed ...
    assert 10 in set(masks.row(masks.key(state), len(table)).ids.tolist())
    masks.advance(state, [10])
    assert 10 in set(masks.row(masks.key(state), len(table)).ids.tolist())  # mid-line: free
    masks.advance(state, [9])  # ... twice, not three times in a row
    assert set(masks.row(masks.key(state), len(table)).ids.tolist()) == opening
    masks.advance(state, [1, 9])
    assert 10 in set(masks.row(masks.key(state), len(table)).ids.tolist())
    prefilled = masks.start([0, 10])  # a prefill that has already opened the answer
    assert 10 in set(masks.row(masks.key(prefilled), len(table)).ids.tolist())
    plain = toy_masks()
    assert 7 in set(plain.row(plain.key(LockState()), len(PIECES)).ids.tolist())  # off: free


def test_the_turn_headers_role_line_is_not_the_answer() -> None:
    table = TokenTable(
        (b"", b"model", b"\n", b"```\n", "при".encode()), frozenset({0}), "sentencepiece"
    )
    masks = LockMasks(table, Policy.from_options(preset="strict"), use_cache=False)
    header = masks.start([4, 0, 1, 2])  # «при<start_of_turn>model\n»: Gemma's turn opening
    assert not header.opened and header.run_line == "" and header.line == ""
    assert masks.start([0, 1, 2, 3]).mode == "code"  # a prefill after the header still counts
    assert masks.start([1, 2]).run_line == "model"  # no marker: the whole prompt is text


def test_a_fence_cannot_close_an_empty_block() -> None:
    masks = toy_masks()
    state = LockState()
    masks.advance(state, [7])  # "```\n": a block opens
    assert state.mode == "code" and state.closing_empty_block
    allowed = set(masks.row(masks.key(state), len(PIECES)).ids.tolist())
    assert 7 not in allowed and 6 in allowed  # no "```" yet; code may start
    masks.advance(state, [6, 1])
    assert state.line == "hiпри" and not state.closing_empty_block
    state.feed(b"\n")
    assert 7 in set(masks.row(masks.key(state), len(PIECES)).ids.tolist())  # now it may close


def test_a_word_never_switches_script_even_where_both_are_open() -> None:
    # Latin is open in prose (standard), yet «тогожеuser» must be impossible.
    pieces = (b"", "тоже".encode(), b"user", b" user", b"-", "ой".encode(), "сuser".encode())
    pieces += (b"\xd0", b"\xbe")
    masks = toy_masks("standard", pieces)
    after_cyrillic = LockState()
    masks.advance(after_cyrillic, [1])
    allowed = set(masks.row(masks.key(after_cyrillic), len(pieces)).ids.tolist())
    assert 2 not in allowed  # a Latin letter glued to a Cyrillic one
    assert {3, 4, 5} <= allowed  # a new word, a hyphen, more Cyrillic
    assert 6 not in allowed  # a token that mixes scripts itself is banned everywhere
    after_latin = LockState()
    masks.advance(after_latin, [3])
    allowed = set(masks.row(masks.key(after_latin), len(pieces)).ids.tolist())
    assert 5 not in allowed and 7 not in allowed  # no Cyrillic letter (nor its lead byte)
    assert {2, 4} <= allowed
    masks.advance(after_latin, [4])  # after a hyphen a Cyrillic suffix is fine: «user-ой»
    assert 5 in set(masks.row(masks.key(after_latin), len(pieces)).ids.tolist())
    code = LockState()
    masks.advance(code, [1])
    code.feed(b" `x")  # inside inline code, scripts may touch
    assert 2 in set(masks.row(masks.key(code), len(pieces)).ids.tolist())


def test_a_line_written_twice_cannot_be_written_a_third_time() -> None:
    # The checker's loop rule: three identical lines in a row. The lock bans the third.
    pieces = (b"", "спектива".encode(), " спектива".encode(), "спек".encode(), "тива".encode())
    pieces += (b"\n", "другое".encode(), "тива\n".encode(), b"```\n")
    masks = toy_masks("strict", pieces)
    state = LockState()
    masks.advance(state, [1, 5, 1, 5])
    assert state.repeated_line == "спектива"
    assert sorted(masks.loop_ban(state).tolist()) == [1, 2, 3]  # the line, spaced, its start
    lock = LlamaCppLock(masks)
    scores = np.zeros(len(pieces), dtype=np.float32)
    lock(np.array([5, 1, 5, 1, 5]), scores)  # a prompt ending in the two copies
    assert {1, 2, 3} == {i for i in range(len(pieces)) if math.isinf(scores[i])}
    masks.advance(state, [3])  # had it begun anyway, the rest of the copy stays banned
    assert sorted(masks.loop_ban(state).tolist()) == [4, 7]
    once = LockState()
    masks.advance(once, [1, 5, 6, 5])
    assert once.repeated_line is None and masks.loop_ban(once) is None
    blank = LockState()
    masks.advance(blank, [1, 5, 5, 1, 5])  # a blank line breaks a run of short lines
    assert masks.loop_ban(blank) is None
    code = LockState()
    masks.advance(code, [8, 1, 5, 1, 5])  # inside a code block, repeats are code's business
    assert masks.loop_ban(code) is None
    symbols = toy_masks("strict", (b"", b"?", b"\n", b"?\n"))
    dots = LockState()
    symbols.advance(dots, [1, 2] * 8)
    assert symbols.loop_ban(dots) is None  # eight lines of «?»: not yet a loop
    symbols.advance(dots, [1, 2])
    assert sorted(symbols.loop_ban(dots).tolist()) == [1, 3]  # the tenth would be


def _latin_in_prose(text: str) -> int:
    """Latin letters outside code (fenced, open fence, inline) and URLs."""
    import re

    prose = re.sub(r"```.*?(```|$)", "", text, flags=re.S)
    prose = re.sub(r"`[^`]*`|(?:https?://|www\.)\S*", "", prose)
    return len(re.findall(r"[A-Za-z]", prose))


@pytest.mark.slow
def test_a_reused_lock_locks_the_next_answer_however_it_is_passed() -> None:
    """The bundled model: an answer cut by ``max_tokens`` inside a code fence, then a longer
    English-asking prompt through the same lock, passed bare, in a list, through
    ``completion_kwargs`` and to ``create_chat_completion``. Unlocked, that prompt gets
    English; locked, no Latin reaches its prose whichever way the lock came."""
    llama_cpp = pytest.importorskip("llama_cpp")
    from langlock.decoding import lock
    from langlock.decoding.bundled import bundled_model_path, gemma_turns

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=1024, verbose=False)
    locked = lock(llama, preset="strict")
    code = gemma_turns("Напиши функцию на Python, которая складывает два числа.") + "```python\n"
    ask = "Please answer in English only. " + "Describe London: history, bridges, parks. " * 3
    english = gemma_turns(ask)
    assert len(llama.tokenize(english.encode())) > len(llama.tokenize(code.encode())) + 12
    options = {"max_tokens": 40, "temperature": 0.7, "seed": 1}
    unlocked = llama(english, **options)["choices"][0]["text"]
    assert _latin_in_prose(unlocked) > 20, unlocked

    ways = {
        "bare": lambda prompt, **o: llama(prompt, logits_processor=locked, **o),
        "list": lambda prompt, **o: llama(
            prompt, logits_processor=llama_cpp.LogitsProcessorList([locked]), **o
        ),
        "kwargs": lambda prompt, **o: llama(prompt, **locked.completion_kwargs(**o)),
    }
    for name, call in ways.items():
        for _ in range(2):  # in a loop, as a server would
            cut = call(code, max_tokens=12, temperature=0.0)["choices"][0]
            assert cut["finish_reason"] == "length" and "```" not in cut["text"], name
            text = call(english, **options)["choices"][0]["text"]
            assert text.strip() and _latin_in_prose(text) == 0, (name, text)
    llama(code, logits_processor=locked, max_tokens=12, temperature=0.0)
    reply = llama.create_chat_completion(
        [{"role": "user", "content": ask}], logits_processor=locked, **options
    )
    text = reply["choices"][0]["message"]["content"] or ""
    # In llama-cpp-python's fallback chat format (this GGUF has no template) the model,
    # barred from English, mostly ends at once: empty is a locked answer too.
    assert _latin_in_prose(text) == 0, text
    locked.raise_failures()  # nothing failed along the way


@pytest.mark.slow
def test_a_failing_lock_ends_the_answer_and_llama_answer_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from langlock.decoding import lock
    from langlock.decoding.bundled import bundled_model_path
    from langlock.decoding.generation import llama_answer
    from langlock.decoding.llama_cpp import LockFailure

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=512, verbose=False)
    locked = lock(llama, preset="strict")

    def broken(*args: object) -> None:
        raise RuntimeError("mask store gone")

    monkeypatch.setattr(locked.masks, "row", broken)
    messages = [{"role": "user", "content": "Answer in English: what is London?"}]
    reply = llama(llama.tokenize(b"What is London?"), logits_processor=locked, max_tokens=32)
    assert reply["choices"][0]["text"] == ""  # the first step could only end the answer
    locked.failures.clear()
    with pytest.raises(LockFailure, match="mask store gone"):
        llama_answer(llama, messages, max_tokens=32, logits_processor=locked)
