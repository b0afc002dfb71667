"""Masks from a policy and a real token table: forbidden scripts cannot be started."""

from __future__ import annotations

import pytest

from langlock.decoding.masks import MaskCompiler, ScriptRule
from langlock.decoding.token_bytes import TokenTable, from_gguf
from langlock.policy import Policy
from langlock.text.scripts import utf8_length


def compiler(table: TokenTable, preset: str = "strict") -> MaskCompiler:
    return MaskCompiler(table, ScriptRule.from_policy(Policy.from_options(preset=preset)))


def toy() -> TokenTable:
    # <0xE5> starts only Han (U+5000–U+5FFF); <0xE4> would not do, as it also starts the
    # Yijing hexagram symbols (U+4DC0–U+4DFF), which are Common and allowed.
    pieces = (
        b"",
        "при".encode(),
        "中".encode(),
        b"\xe5",
        b"\x8e\x9a",
        b"\xd0",
        b"\xbf",
        b"hi",
        b" ",
    )
    return TokenTable(pieces, frozenset({0}), "sentencepiece")


def test_utf8_lengths() -> None:
    assert [utf8_length(b) for b in (0x00, 0x7F, 0xC2, 0xDF, 0xE0, 0xF4, 0xF5, 0x80)] == [
        1,
        1,
        2,
        2,
        3,
        4,
        0,
        0,
    ]


def test_toy_table_prose_and_code() -> None:
    strict = compiler(toy())
    # EOS (0), Cyrillic, the Cyrillic lead byte and a space; no Han, no Han lead, no Latin.
    assert strict.allowed("prose") == {0, 1, 5, 8}
    assert strict.allowed("code") == {0, 1, 5, 7, 8}
    assert compiler(toy(), "standard").allowed("prose") == {0, 1, 5, 7, 8}


def test_pending_bytes_only_complete_into_allowed_characters() -> None:
    strict = compiler(toy())
    assert strict.allowed("prose", b"\xd0") == {0, 6}  # «п» completes; nothing else fits
    assert strict.allowed("prose", b"\xe5") == {0}  # a Han start has no allowed ending


def test_allow_script_opens_han() -> None:
    policy = Policy.from_options(preset="strict", allow_scripts=["Han"])
    masks = MaskCompiler(toy(), ScriptRule.from_policy(policy))
    assert {2, 3} <= masks.allowed("prose")


@pytest.mark.slow
def test_gemma_byte_fallback_cannot_start_a_han_character() -> None:
    from langlock.decoding.bundled import bundled_model_path

    table = from_gguf(bundled_model_path())
    ids = {piece: i for i, piece in enumerate(table.pieces) if len(piece) == 1}
    masks = compiler(table)
    prose = masks.allowed("prose")
    # «厚» is <0xE5><0x8E><0x9A> in Gemma: the first byte is already banned, and even a
    # forced first byte leaves no allowed way on.
    assert ids[b"\xe5"] not in prose and ids[b"\xd0"] in prose
    assert ids[b"\x8e"] not in masks.allowed("prose", b"\xe5")
    assert masks.allowed("prose", b"\xe5\x8e") <= table.special
    # Every whole-Cyrillic token is allowed; no allowed token holds a Han character.
    cyrillic = [i for i, p in enumerate(table.pieces) if p and p.decode("utf-8", "ignore") == "при"]
    assert cyrillic and all(i in prose for i in cyrillic)
    for i in prose:
        text = table.pieces[i].decode("utf-8", "ignore")
        assert not any("\u4e00" <= c <= "\u9fff" for c in text), text
    # Special tokens (EOS, <end_of_turn>) are never masked.
    assert table.special <= prose


@pytest.mark.slow
@pytest.mark.parametrize("pending", [b"\xd0", b"\xe2", b"\xe2\x80", b"\xe5", b"\xf0\x9f", b"\xc3"])
def test_grouped_pending_masks_equal_a_token_by_token_pass(pending: bytes) -> None:
    from langlock.decoding.bundled import bundled_model_path

    table = from_gguf(bundled_model_path())
    masks = compiler(table)
    for mode in ("prose", "code"):
        brute = {
            i
            for i, piece in enumerate(table.pieces)
            if i in table.special or masks.token_ok(piece, mode, pending)
        }
        assert masks.allowed(mode, pending) == brute
