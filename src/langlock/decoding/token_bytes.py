"""The exact bytes each token id emits, for the tokenizers local models use.

Locked decoding must follow UTF-8 state: byte-level BPE (GPT-2 byte map: Qwen, Llama-3,
SmolLM) and SentencePiece byte fallback (``<0xE4>``: Gemma, Llama-2) can put *part* of a
character in one token, so decoding ids one by one (to U+FFFD) would miss a Han character
that arrives in three pieces. A ``TokenTable`` holds every id's bytes once; added and
control tokens (``<end_of_turn>``, ``<|im_end|>``) are literal markers, kept apart.

Three sources: a Hugging Face ``tokenizer.json``, GGUF metadata, and a loaded
``llama_cpp.Llama``. Hand-written because no library exposes "bytes of token i" for all
three vocabulary kinds (``tokenizers`` decodes to str, losing partial characters).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

Kind = Literal["byte-level", "sentencepiece"]


@dataclass(frozen=True, slots=True)
class TokenTable:
    """Bytes per token id, and which ids are special (literal, never part of the text).

    ``add_space_prefix``: the tokenizer puts a space before the first word (SentencePiece
    "dummy prefix"), so the bytes of an encoded text start with one extra space.
    """

    pieces: tuple[bytes, ...]
    special: frozenset[int]
    kind: Kind
    add_space_prefix: bool = False

    def __len__(self) -> int:
        return len(self.pieces)

    def bytes_of(self, ids: Iterable[int]) -> bytes:
        """The text bytes that ``ids`` emit (special tokens emit none).

        >>> t = TokenTable((b"a", b"\\xe4", b"\\xb8\\xad", b""), frozenset({3}), "byte-level")
        >>> t.bytes_of([0, 1, 2, 3]).decode()
        'a中'
        """
        pieces, special = self.pieces, self.special
        return b"".join(pieces[i] for i in ids if i not in special)


@cache
def gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, inverted (char -> byte).

    >>> gpt2_byte_decoder()["Ġ"], gpt2_byte_decoder()["a"]
    (32, 97)
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, codes, strict=True)}


def byte_level_bytes(token: str) -> bytes:
    """Bytes of a byte-level BPE token string.

    >>> byte_level_bytes("ĠÐ¿ÑĢ").decode()
    ' пр'
    """
    table = gpt2_byte_decoder()
    return bytes(table[c] for c in token)


def sentencepiece_bytes(token: str) -> bytes:
    """Bytes of a SentencePiece token: ``<0xE4>`` is one raw byte, ``▁`` a space.

    >>> sentencepiece_bytes("<0xE4>"), sentencepiece_bytes("▁при").decode()
    (b'\\xe4', ' при')
    """
    if len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
        try:
            return bytes([int(token[3:5], 16)])
        except ValueError:
            pass
    return token.replace("▁", " ").encode("utf-8")


def from_tokenizer_json(path: str | Path) -> TokenTable:
    """A table from a Hugging Face ``tokenizer.json`` (BPE, byte-level or SentencePiece)."""
    return from_tokenizer_data(json.loads(Path(path).read_text(encoding="utf-8")))


def from_tokenizer_data(data: dict[str, Any]) -> TokenTable:
    """A table from a parsed ``tokenizer.json`` (also what a fast tokenizer serialises to)."""
    model = data["model"]
    vocab: dict[str, int] = model["vocab"]
    added = {t["id"] for t in data.get("added_tokens", [])}
    size = max([*vocab.values(), *added]) + 1
    kind: Kind = "byte-level" if _uses_byte_level(data) else "sentencepiece"
    convert = byte_level_bytes if kind == "byte-level" else sentencepiece_bytes
    pieces = [b""] * size
    for token, i in vocab.items():
        pieces[i] = convert(token)
    for i in added:
        pieces[i] = b""  # added tokens are literal markers, not text
    prefix = _json_adds_prefix(data) if kind == "sentencepiece" else False
    return TokenTable(
        pieces=tuple(pieces), special=frozenset(added), kind=kind, add_space_prefix=prefix
    )


def _uses_byte_level(data: dict[str, Any]) -> bool:
    def types(node: Any) -> Iterable[str]:
        if isinstance(node, dict):
            if "type" in node:
                yield str(node["type"])
            for value in node.values():
                yield from types(value)
        elif isinstance(node, list):
            for value in node:
                yield from types(value)

    return "ByteLevel" in set(types(data.get("pre_tokenizer"))) | set(types(data.get("decoder")))


def _json_adds_prefix(data: dict[str, Any]) -> bool:
    normalizer = json.dumps(data.get("normalizer") or {})
    pre = json.dumps(data.get("pre_tokenizer") or {})
    return '"Prepend"' in normalizer or '"prepend_scheme": "always"' in pre


#: End-of-generation texts that llama.cpp treats as control even when a GGUF lists them as
#: user-defined (Gemma's ``</s>``); other user-defined tokens (``<table>``) stay text.
_END_TEXTS = frozenset(
    {
        "</s>",
        "<|endoftext|>",
        "<|im_end|>",
        "<|eot_id|>",
        "<|eom_id|>",
        "<|end|>",
        "<end_of_turn>",
        "<EOT>",
    }
)
#: GGUF ``tokenizer.ggml.token_type`` values (llama.cpp's llama_token_type).
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6


def from_gguf(path: str | Path) -> TokenTable:
    """A table from a GGUF file's tokenizer metadata (``gpt2`` or ``llama`` models)."""
    meta = read_gguf_metadata(path)
    return _from_pieces(
        str(meta["tokenizer.ggml.model"]),
        list(meta["tokenizer.ggml.tokens"]),
        list(meta.get("tokenizer.ggml.token_type", [])),
        bool(meta.get("tokenizer.ggml.add_space_prefix", False)),
    )


# GGUF value types: struct format of the scalars, 8 = string, 9 = array.
_GGUF_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}


def read_gguf_metadata(path: str | Path) -> dict[str, Any]:
    """The key/value metadata of a GGUF file (header only, tensors are not read).

    Hand-written: ``gguf.GGUFReader`` maps and parses every tensor and field, about ten
    seconds for a 49k-token vocabulary here; the metadata alone reads in a fraction.
    """
    import struct
    from array import array

    with open(path, "rb") as fh:
        data = fh.read(16 << 20)  # the metadata sits at the start; grown below if needed
        pos = 0

        def need(n: int) -> None:
            nonlocal data
            while pos + n > len(data):
                more = fh.read(16 << 20)
                if not more:
                    raise ValueError(f"{path}: truncated GGUF metadata")
                data += more

        def scalar(fmt: str) -> Any:
            nonlocal pos
            size = struct.calcsize("<" + fmt)
            need(size)
            (value,) = struct.unpack_from("<" + fmt, data, pos)
            pos += size
            return value

        def string() -> str:
            nonlocal pos
            n = scalar("Q")
            need(n)
            value = data[pos : pos + n].decode("utf-8", "replace")
            pos += n
            return value

        def value(kind: int) -> Any:
            nonlocal pos
            if kind == 8:
                return string()
            if kind == 9:
                item, count = scalar("I"), scalar("Q")
                if item in _GGUF_SCALARS and item != 7:
                    items = array(_GGUF_SCALARS[item])
                    need(count * items.itemsize)
                    items.frombytes(data[pos : pos + count * items.itemsize])
                    pos += count * items.itemsize
                    return items
                return [value(item) for _ in range(count)]
            return scalar(_GGUF_SCALARS[kind])

        need(24)
        if data[:4] != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        pos = 8
        scalar("Q")  # tensor count
        meta: dict[str, Any] = {}
        for _ in range(scalar("Q")):
            key = string()
            meta[key] = value(scalar("I"))
        return meta


def _from_pieces(
    model: str, tokens: Sequence[str], types: Sequence[int], add_space_prefix: bool
) -> TokenTable:
    """A table from a GGUF-style vocabulary: token strings, their types, the model name.

    >>> t = _from_pieces("llama", ["<eos>", "▁при", "<0xE4>"], [3, 1, 6], False)
    >>> t.pieces, sorted(t.special), t.kind
    ((b'', b' \\xd0\\xbf\\xd1\\x80\\xd0\\xb8', b'\\xe4'), [0], 'sentencepiece')
    """
    kind: Kind = "byte-level" if model in ("gpt2", "bpe") else "sentencepiece"
    pieces: list[bytes] = []
    special: set[int] = set()
    for i, token in enumerate(tokens):
        token_type = types[i] if i < len(types) else _NORMAL
        if token_type in (_CONTROL, _UNKNOWN, _UNUSED):
            pieces.append(b"")
            special.add(i)
        elif token_type == _USER_DEFINED and token in _END_TEXTS:
            pieces.append(b"")  # llama.cpp promotes these end markers to control tokens
            special.add(i)
        elif token_type == _USER_DEFINED:
            pieces.append(token.encode("utf-8"))  # literal text, not byte-mapped
        elif kind == "byte-level":
            pieces.append(_safe_byte_level(token))
        else:
            pieces.append(sentencepiece_bytes(token))
    return TokenTable(
        pieces=tuple(pieces),
        special=frozenset(special),
        kind=kind,
        add_space_prefix=add_space_prefix,
    )


def _safe_byte_level(token: str) -> bytes:
    try:
        return byte_level_bytes(token)
    except KeyError:  # a stray literal token in a byte-level vocabulary
        return token.encode("utf-8")


def from_llama(llama: Any) -> TokenTable:
    """A table from a loaded ``llama_cpp.Llama`` (its own vocabulary, via llama.cpp)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    size = llama.n_vocab()
    buffer = llama_cpp.ctypes.create_string_buffer(256)
    pieces: list[bytes] = []
    special: set[int] = set()
    control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
    for i in range(size):
        if llama_cpp.llama_vocab_get_attr(vocab, i) & control:
            pieces.append(b"")
            special.add(i)
            continue
        n = llama_cpp.llama_token_to_piece(vocab, i, buffer, len(buffer), 0, False)
        pieces.append(buffer.raw[: max(n, 0)])
    add_prefix = str(llama.metadata.get("tokenizer.ggml.add_space_prefix", "")).lower() == "true"
    kind: Kind = (
        "byte-level"
        if llama_cpp.llama_vocab_type(vocab) == llama_cpp.LLAMA_VOCAB_TYPE_BPE
        else "sentencepiece"
    )
    return TokenTable(
        pieces=tuple(pieces), special=frozenset(special), kind=kind, add_space_prefix=add_prefix
    )
