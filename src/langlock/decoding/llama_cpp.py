"""The lock as llama-cpp-python's ``logits_processor``: one generation at a time, in place on
the numpy logits row. Imports ``llama_cpp`` only where a call needs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from langlock.decoding import cache
from langlock.decoding.state import LockMasks, LockState, warn_all_banned
from langlock.decoding.token_bytes import TokenTable


class LlamaCppLock:
    """A llama-cpp-python ``logits_processor``: bans forbidden tokens in place.

    Pass it as ``logits_processor=LogitsProcessorList([lock])``. llama-cpp-python drops the
    processor when ``logit_bias`` is also given (it assigns the result of ``list.extend``,
    which is None), so pass the call's arguments through ``completion_kwargs`` instead,
    which moves ``logit_bias`` into this processor.
    """

    def __init__(self, masks: LockMasks, bias: dict[int, float] | None = None) -> None:
        self.masks = masks
        self.table = masks.table
        self.bias = bias or {}
        self._prompt_len: int | None = None
        self._seen = 0
        self.state = LockState()

    def reset(self) -> None:
        self._prompt_len, self._seen, self.state = None, 0, LockState()

    def completion_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """Arguments for ``Llama.__call__``/``create_completion`` with this lock applied and
        any ``logit_bias`` applied by the lock (where llama-cpp-python would lose it)."""
        import llama_cpp

        self.bias = {int(k): float(v) for k, v in (kwargs.pop("logit_bias", None) or {}).items()}
        others = list(kwargs.pop("logits_processor", None) or [])
        kwargs["logits_processor"] = llama_cpp.LogitsProcessorList([*others, self])
        return kwargs

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._prompt_len is None or len(input_ids) < self._prompt_len + self._seen:
            self.reset()
            self._prompt_len = len(input_ids)
            self.state = self.masks.start(input_ids)
        new = input_ids[self._prompt_len + self._seen :]
        self.masks.advance(self.state, new)
        self._seen += len(new)
        row = self.masks.row(self.masks.key(self.state), len(scores))
        for token, value in self.bias.items():
            if 0 <= token < len(scores):
                scores[token] += value
        if not np.isfinite(scores[row.probe]).any() and not np.isfinite(scores[row.ids]).any():
            warn_all_banned()
            return scores
        np.add(scores, row.penalty, out=scores)
        loop = self.masks.loop_ban(self.state)
        if loop is not None and len(loop):
            scores[loop[loop < len(scores)]] = -np.inf
        return scores


def table_for_llama(llama: Any) -> TokenTable:
    """The token table of a loaded ``llama_cpp.Llama``, cached by its model file."""
    from langlock.decoding.token_bytes import from_llama

    key = cache.file_key(Path(llama.model_path))
    return cache.cached_table(key and f"llama-{key}", lambda: from_llama(llama))
