"""Apply the masks while a model generates: follow the emitted bytes (pending UTF-8, code or
prose) and let only allowed tokens through.

``LockState`` is engine-neutral; ``LlamaCppLock`` is llama-cpp-python's
``logits_processor`` (numpy, in place). Masks are boolean arrays sized to the logits row,
built once per state and reused.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from langlock.decoding.masks import MaskCompiler, Mode, ScriptRule
from langlock.decoding.token_bytes import TokenTable
from langlock.policy import Policy
from langlock.text.scripts import utf8_length

log = logging.getLogger(__name__)
_FENCE = re.compile(r"(?m)^[ \t]*```")


@dataclass
class LockState:
    r"""What the generated text so far means for the next token.

    >>> s = LockState()
    >>> s.feed("при ```py\nx".encode() + b"\xd0")
    >>> s.mode, s.pending
    ('prose', b'\xd0')
    >>> s.feed(b"\xbf\n```python\nx = 1")
    >>> s.mode
    'code'
    """

    pending: bytes = b""
    text: str = ""

    @property
    def mode(self) -> Mode:
        """Code inside a fenced block (``` at a line start) or inline backticks."""
        if len(_FENCE.findall(self.text)) % 2:
            return "code"
        last_line = self.text.rsplit("\n", 1)[-1]
        return "code" if last_line.count("`") % 2 else "prose"

    def feed(self, data: bytes) -> None:
        """Account for newly emitted bytes."""
        data = self.pending + data
        cut = _complete_prefix(data)
        self.pending = data[cut:]
        self.text += data[:cut].decode("utf-8", "replace")


def _complete_prefix(data: bytes) -> int:
    r"""Length of ``data`` up to an unfinished UTF-8 character at its end.

    >>> _complete_prefix(b"ab\xd0"), _complete_prefix("при".encode())
    (2, 6)
    """
    for back in range(1, min(4, len(data)) + 1):
        lead = data[-back]
        if lead & 0xC0 != 0x80:  # not a continuation byte: a lead or ASCII
            return len(data) - back if utf8_length(lead) > back else len(data)
    return len(data)


class LlamaCppLock:
    """A llama-cpp-python ``logits_processor``: bans forbidden tokens in place.

    Pass it as ``logits_processor=LogitsProcessorList([lock])``; llama-cpp-python ignores
    it when ``logit_bias`` is also given, so give biases here (``bias``) instead.
    """

    def __init__(
        self,
        table: TokenTable,
        policy: Policy,
        latin_bias: float = 0.0,
        bias: dict[int, float] | None = None,
    ) -> None:
        self.table = table
        self.masks = MaskCompiler(table, ScriptRule.from_policy(policy))
        self.latin_bias = latin_bias
        self.bias = bias or {}
        self._arrays: dict[tuple[Mode, bytes, int], _Mask] = {}
        self._prompt_len: int | None = None
        self._seen = 0
        self.state = LockState()

    def reset(self) -> None:
        self._prompt_len, self._seen, self.state = None, 0, LockState()

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        if self._prompt_len is None or len(input_ids) < self._prompt_len + self._seen:
            self.reset()
            self._prompt_len = len(input_ids)
            self._feed_prefill(input_ids)
        new = input_ids[self._prompt_len + self._seen :]
        self._feed(new)
        self._seen += len(new)
        mask = self._mask(self.state.mode, self.state.pending, len(scores))
        for token, value in self.bias.items():
            if 0 <= token < len(scores):
                scores[token] += value
        if not np.isfinite(scores[mask.probe]).any() and not np.isfinite(scores[mask.ids]).any():
            log.warning("langlock: every token is banned here; leaving this step unlocked")
            return scores
        np.add(scores, mask.penalty, out=scores)  # 0 where allowed, -inf where banned
        return scores

    def _feed_prefill(self, input_ids: Any) -> None:
        """Start from the answer's own prefill: the prompt after its last special token (the
        model's turn marker), so a fence opened there puts the lock in code mode."""
        special = self.table.special
        start = 0
        for position in range(len(input_ids) - 1, -1, -1):
            if int(input_ids[position]) in special:
                start = position + 1
                break
        self._feed(input_ids[start:])

    def _feed(self, ids: Any) -> None:
        """Account for emitted ids (ids past the table emit nothing)."""
        pieces = self.table.pieces
        for token in ids:
            if int(token) < len(pieces):
                self.state.feed(pieces[int(token)])

    def _mask(self, mode: Mode, pending: bytes, width: int) -> _Mask:
        import numpy as np

        key = (mode, pending, width)
        if key not in self._arrays:
            allowed = np.zeros(width, dtype=bool)
            ids = np.fromiter(sorted(self.masks.allowed(mode, pending)), dtype=np.int64)
            allowed[ids[ids < width]] = True
            allowed[len(self.table) :] = True  # ids past the table: padding, never ours to ban
            penalty = np.where(allowed, 0.0, -np.inf).astype(np.float32)
            special = np.fromiter(sorted(self.table.special), dtype=np.int64)
            probe = np.concatenate([special[special < width][:64], ids[ids < width][:64]])
            self._arrays[key] = _Mask(penalty, np.flatnonzero(allowed), probe)
        return self._arrays[key]


@dataclass(frozen=True)
class _Mask:
    """One state's mask: the additive penalty row (one vectorised add per step), the
    allowed ids, and a few of them to probe first for the all-banned case."""

    penalty: Any
    ids: Any
    probe: Any


def lock_llama(llama: Any, lang: str = "ru", preset: str = "strict") -> LlamaCppLock:
    """A lock for a loaded ``llama_cpp.Llama`` under the given target and preset."""
    from langlock.decoding.token_bytes import from_llama

    return LlamaCppLock(from_llama(llama), Policy.from_options(lang=lang, preset=preset))
