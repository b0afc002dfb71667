"""The lock as a transformers ``LogitsProcessor``: batched, one state per row, correct under
sampling and beam search.

Beam search reorders and duplicates rows between steps, so a row's state is never kept by
its index: it is looked up by the row's own ids (its parent is the same row without the
last token), which holds whatever the search did. Rows that share a state share one mask
add. Imports torch and transformers; load it only when they are installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from langlock.decoding import cache
from langlock.decoding.llama_cpp import end_only
from langlock.decoding.state import LockMasks, LockState, warn_all_banned
from langlock.decoding.token_bytes import TokenTable, from_tokenizer_data


class TransformersLock(LogitsProcessor):
    """Bans forbidden tokens for every row of a batch (``model.generate(logits_processor=
    LogitsProcessorList([lock]))``); the same object serves any number of ``generate`` calls."""

    def __init__(self, masks: LockMasks, end_ids: tuple[int, ...] = ()) -> None:
        self.masks = masks
        self.end_ids = end_ids or tuple(sorted(masks.table.special))
        self._states: dict[bytes, LockState] = {}
        self._length: int | None = None
        self._tensors: dict[tuple[Any, ...], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        ids = input_ids.detach().cpu().numpy()
        states = self._states_for(ids)
        width = scores.shape[-1]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for row, state in enumerate(states):
            groups.setdefault(self.masks.key(state), []).append(row)
        for key, rows in groups.items():
            penalty, allowed, probe = self._tensor(key, width, scores)
            index = torch.tensor(rows, device=scores.device)
            probed = torch.isfinite(scores[index[:, None], probe[None, :]]).any(dim=1).tolist()
            locked = [
                row
                for row, seen in zip(rows, probed, strict=True)
                if seen or bool(torch.isfinite(scores[row, allowed]).any())
            ]
            if len(locked) < len(rows):  # fail closed: such a row can only end
                warn_all_banned()
                for row in set(rows) - set(locked):
                    end_only(scores[row], self.end_ids)
            if len(locked) == len(scores):  # one state for the whole batch: one broadcast add
                scores.add_(penalty)
            else:  # in place on each row's view; index assignment would copy the rows twice
                for row in locked:
                    scores[row].add_(penalty)
        for row, state in enumerate(states):  # a third copy of a line: a loop
            loop = self.masks.loop_ban(state)
            if loop is not None and len(loop):
                ids = torch.from_numpy(loop[loop < width]).to(scores.device)
                scores[row, ids] = float("-inf")
        return scores

    def _states_for(self, ids: np.ndarray) -> list[LockState]:
        """Each row's state: its parent's plus the newest token, or from its prompt when
        this is the first step of a ``generate`` call."""
        keys = [row.tobytes() for row in ids]
        parents = [row[:-1].tobytes() for row in ids]
        continuing = self._length is not None and ids.shape[1] == self._length + 1
        if continuing and all(p in self._states for p in parents):
            states = []
            for row, parent in zip(ids, parents, strict=True):
                state = dataclasses.replace(self._states[parent])
                self.masks.advance(state, row[-1:])
                states.append(state)
        else:
            states = [self.masks.start(row) for row in ids]
        self._states = dict(zip(keys, states, strict=True))
        self._length = ids.shape[1]
        return states

    def _tensor(
        self, key: tuple[Any, ...], width: int, scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mask row as tensors on the scores' device and dtype, built once each."""
        full = (*key, width, scores.device, scores.dtype)
        if full not in self._tensors:
            row = self.masks.row(key, width)  # type: ignore[arg-type]
            self._tensors[full] = (
                torch.from_numpy(row.penalty).to(device=scores.device, dtype=scores.dtype),
                torch.from_numpy(row.ids).to(scores.device),
                torch.from_numpy(row.probe).to(scores.device),
            )
        return self._tensors[full]


def table_for_tokenizer(tokenizer: Any) -> TokenTable:
    """The table of a Hugging Face fast tokenizer (its serialised ``tokenizer.json``),
    cached by that serialisation's hash."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise TypeError("a fast tokenizer (PreTrainedTokenizerFast) is needed")
    serialised = backend.to_str()
    key = "hf-" + hashlib.sha256(serialised.encode()).hexdigest()[:24]
    return cache.cached_table(key, lambda: from_tokenizer_data(json.loads(serialised)))
