"""The lock as llama-cpp-python's ``logits_processor``: one generation at a time, in place on
the numpy logits row. Imports ``llama_cpp`` only where a call needs it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from langlock.decoding import cache
from langlock.decoding.state import LockMasks, LockState, warn_all_banned
from langlock.decoding.token_bytes import TokenTable

log = logging.getLogger(__name__)


class LockFailure(RuntimeError):
    """The lock raised inside a generation step; that step ended the answer instead."""


class LlamaCppLock:
    """A llama-cpp-python ``logits_processor``: bans forbidden tokens in place.

    Pass it bare (``logits_processor=lock``) or in a ``LogitsProcessorList``: llama-cpp-python
    iterates what it is given, so the lock is also a list of itself. llama-cpp-python drops
    the processor when ``logit_bias`` is also given (it assigns the result of ``list.extend``,
    which is None), so pass the call's arguments through ``completion_kwargs`` instead,
    which moves ``logit_bias`` into this processor.

    It fails closed: llama-cpp-python calls processors from a ctypes callback that prints an
    exception and samples as if nothing happened, so an error inside a step bans every token
    but the end of text (the answer stops there), is logged, and is kept for
    :meth:`raise_failures` to raise after the call (``llama_answer`` does).
    """

    def __init__(
        self,
        masks: LockMasks,
        bias: dict[int, float] | None = None,
        end_ids: tuple[int, ...] = (),
    ) -> None:
        self.masks = masks
        self.table = masks.table
        self.bias = bias or {}
        self.end_ids = end_ids or tuple(sorted(masks.table.special))
        self._ids: np.ndarray | None = None
        self.state = LockState()
        self.failures: list[BaseException] = []

    def __iter__(self) -> Iterator[LlamaCppLock]:
        yield self

    def __len__(self) -> int:
        return 1

    def reset(self) -> None:
        self._ids, self.state = None, LockState()

    def completion_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """Arguments for ``Llama.__call__``/``create_completion`` with this lock applied and
        any ``logit_bias`` applied by the lock (where llama-cpp-python would lose it)."""
        import llama_cpp

        self.reset()
        self.bias = {int(k): float(v) for k, v in (kwargs.pop("logit_bias", None) or {}).items()}
        others = list(kwargs.pop("logits_processor", None) or [])
        kwargs["logits_processor"] = llama_cpp.LogitsProcessorList([*others, self])
        return kwargs

    def raise_failures(self) -> None:
        """Raise ``LockFailure`` for an error caught inside a step since the last check."""
        if self.failures:
            first, count = self.failures[0], len(self.failures)
            self.failures.clear()
            raise LockFailure(
                f"the lock failed in {count} step(s) and ended the answer there: {first!r}"
            ) from first

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        try:
            return self._apply(np.asarray(input_ids), scores)
        except Exception as exc:  # ctypes would swallow it and sample unlocked
            log.error("langlock: the lock failed; ending the answer here", exc_info=True)
            self.failures.append(exc)
            self.reset()
            end_only(scores, self.end_ids)
            return scores

    def _apply(self, ids: np.ndarray, scores: Any) -> Any:
        if self._continues(ids):
            self.masks.advance(self.state, ids[-1:])
        else:  # a new generation: its prompt is the input, whatever its length
            self.state = self.masks.start(ids)
        self._ids = ids.copy()
        row = self.masks.row(self.masks.key(self.state), len(scores))
        for token, value in self.bias.items():
            if 0 <= token < len(scores):
                scores[token] += value
        if not np.isfinite(scores[row.probe]).any() and not np.isfinite(scores[row.ids]).any():
            warn_all_banned()
            end_only(scores, self.end_ids)
            return scores
        np.add(scores, row.penalty, out=scores)
        loop = self.masks.loop_ban(self.state)
        if loop is not None and len(loop):
            scores[loop[loop < len(scores)]] = -np.inf
        return scores

    def _continues(self, ids: np.ndarray) -> bool:
        """Whether ``ids`` is the last input plus the one token sampled from it: a step of
        the same generation. Anything else (shorter, longer, or another prefix) is a new
        one; a length test alone took a longer new prompt for a continuation."""
        last = self._ids
        return last is not None and len(ids) == len(last) + 1 and np.array_equal(ids[:-1], last)


def end_only(scores: Any, end_ids: tuple[int, ...]) -> None:
    """Ban every token of the row but the end-of-text ones, in place (numpy or torch).

    >>> row = np.zeros(4, dtype=np.float32)
    >>> end_only(row, (1,))
    >>> row.tolist()
    [-inf, 0.0, -inf, -inf]
    """
    scores[:] = -np.inf
    for token in end_ids:
        if 0 <= token < len(scores):
            scores[token] = 0.0


def table_for_llama(llama: Any) -> TokenTable:
    """The token table of a loaded ``llama_cpp.Llama``, cached by its model file."""
    from langlock.decoding.token_bytes import from_llama

    key = cache.file_key(Path(llama.model_path))
    return cache.cached_table(key and f"llama-{key}", lambda: from_llama(llama))
