"""Upstream help: a ``logit_bias`` that keeps forbidden scripts out of a llama.cpp server's
output altogether, derived from the policy and the served model's vocabulary.

The banned tokens are those the lock bans even in code: tokens that can only write letters
of a script the target does not use (Han, kana, Hangul, Arabic, …), lone lead bytes that can
only begin such letters, and private-use, control and invisible format characters. Latin
stays open (a bias cannot tell prose from code; the checker still judges Latin words).

A GBNF grammar would be the other way. With llama-cpp-python 0.3 it was not usable: a
negated character class with more than one range, or any escape, turned the bundled Gemma's
answers into ``)\\n`` loops, and a 300-range class made decoding twenty times slower.
Hosted APIs cap ``logit_bias`` near a thousand entries, so this is for servers that run a
vocabulary we can read (``--upstream-vocab``: the GGUF or ``tokenizer.json`` they serve).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from langlock.decoding import cache
from langlock.decoding.masks import MaskCompiler, ScriptRule
from langlock.decoding.token_bytes import TokenTable, from_gguf, from_tokenizer_json
from langlock.policy import Policy

BAN = -100.0  # what OpenAI-style servers take as "never"


def vocabulary(path: str | Path) -> TokenTable:
    """The token table of a served model: its ``.gguf`` or ``tokenizer.json`` (cached)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no vocabulary file at {path}")
    build = from_gguf if path.suffix == ".gguf" else from_tokenizer_json
    key = cache.file_key(path)
    return cache.cached_table(key and f"vocab-{key}", lambda: build(path))


def banned_tokens(table: TokenTable, policy: Policy) -> np.ndarray:
    """Ids of the tokens that can only write what the policy bans everywhere.

    >>> from langlock.policy import Policy
    >>> table = TokenTable((b"", "при".encode(), "中".encode(), b"\\xe5", b"hi"), frozenset({0}),
    ...                    "sentencepiece")
    >>> banned_tokens(table, Policy.from_options()).tolist()
    [2, 3]
    """
    compiler = MaskCompiler(table, ScriptRule.from_policy(policy))
    return np.flatnonzero(~compiler.allowed_array("code"))


def ban_bias(table: TokenTable, policy: Policy) -> dict[str, float]:
    """``logit_bias`` (token id → -100) banning those tokens, as a request field."""
    return {str(i): BAN for i in banned_tokens(table, policy).tolist()}


def merged_bias(client: object, ours: dict[str, float]) -> dict[str, float]:
    """The client's own ``logit_bias`` plus ours: a ban stays a ban even where the client
    pushed the token up.

    >>> merged_bias({"7": 30, "8": 1}, {"7": -100.0})
    {'7': -70.0, '8': 1.0}
    """
    merged = (
        {str(k): float(v) for k, v in (client or {}).items()} if isinstance(client, dict) else {}
    )
    for token, value in ours.items():
        merged[token] = merged.get(token, 0.0) + value
    return merged
