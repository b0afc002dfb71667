"""The lock as vLLM logits processors, for both of vLLM's interfaces.

:class:`VllmLock` implements both, and vLLM picks by how it builds it:

- the V1 interface (``vllm.v1.sample.logits_processor.LogitsProcessor``):
  ``update_state(BatchUpdate)`` tracks requests by their persistent-batch index (added,
  removed, moved, swapped); each added request carries a live reference to its output ids.
- Model Runner V2's interface (``add_request(slot, params)``, ``apply(logits, ctx)``): rows
  are reordered every step, so each row is mapped to its request slot through
  ``ctx.expanded_idx_mapping`` and fed from the runner's ``all_token_ids``; under
  speculative decoding a request's draft rows get forks of its state, and only committed
  tokens move the request's own state.

A request is locked when its ``SamplingParams.extra_args`` (the REST body's ``vllm_xargs``)
name a target language: ``{"langlock": "ru", "langlock_preset": "strict",
"langlock_allow_scripts": "Han", "langlock_open_native": true}``; the environment variables
``LANGLOCK_VLLM_LANG`` / ``LANGLOCK_VLLM_PRESET`` lock every request by default
(``"langlock": "off"`` opts one out). Bad arguments are refused at admission
(``validate_params``). Both classes share one :class:`langlock.decoding.batch.BatchLock`
design: the same ``LockMasks``/``LockState`` as the llama.cpp and transformers locks, one
gather and add per step for the batch.

Serving::

    python -m vllm.entrypoints.openai.api_server --model MODEL \\
        --logits-processors langlock.decoding.vllm:VllmLock

or rely on the ``vllm.logits_processors`` entry point, which loads ``VllmLock`` into every
engine in an environment where langlock is installed (it builds nothing until a request
asks for a lock).
Imports vLLM, torch and transformers; load it only inside a vLLM environment.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, MoveDirectionality
from vllm.v1.sample.logits_processor import LogitsProcessor as V1LogitsProcessor

from langlock.decoding.batch import BatchLock, LockRequest, TrackedRequest, end_row

try:  # Model Runner V2's interface (vLLM >= 0.32)
    from vllm.v1.worker.gpu.sample.logits_processor import LogitsProcessor as V2LogitsProcessor
except ImportError:  # pragma: no cover - an older vLLM: the V1 interface only
    V2LogitsProcessor = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from vllm import SamplingParams
    from vllm.config import VllmConfig

log = logging.getLogger(__name__)


def server_default() -> LockRequest | None:
    """The lock every request gets unless it says otherwise, from ``LANGLOCK_VLLM_LANG``
    and ``LANGLOCK_VLLM_PRESET`` (unset: requests are locked only when they ask)."""
    lang = os.environ.get("LANGLOCK_VLLM_LANG", "").strip()
    if not lang:
        return None
    request = LockRequest(lang=lang, preset=os.environ.get("LANGLOCK_VLLM_PRESET", "strict"))
    request.validate()
    return request


def batch_lock_for(vllm_config: VllmConfig) -> BatchLock:
    """The batch lock for the engine's tokenizer (its table cached on disk by the
    tokenizer's serialisation), ending rows with the tokenizer's EOS."""
    from transformers import AutoTokenizer

    from langlock.decoding.transformers import table_for_tokenizer

    model = vllm_config.model_config
    tokenizer = AutoTokenizer.from_pretrained(
        model.tokenizer,
        revision=model.tokenizer_revision,
        trust_remote_code=model.trust_remote_code,
    )
    eos = tokenizer.eos_token_id
    return BatchLock(table_for_tokenizer(tokenizer), end_ids=() if eos is None else (int(eos),))


def model_eos(vllm_config: VllmConfig) -> tuple[int, ...]:
    """The model's EOS ids from its config, for ending rows when the tokenizer (and so the
    lock) could not be loaded: a row of nothing but -inf would sample garbage."""
    eos = getattr(vllm_config.model_config.hf_config, "eos_token_id", None)
    return tuple(int(e) for e in (eos if isinstance(eos, list | tuple) else [eos]) if e is not None)


def _request_for(params: SamplingParams, default: LockRequest | None) -> LockRequest | None:
    return LockRequest.from_args(getattr(params, "extra_args", None), default)


class _Engine:
    """What both runners share: the batch lock, built on the first locked request (an
    engine that loads the plugin but never locks pays nothing), and the server default."""

    def __init__(self, vllm_config: VllmConfig) -> None:
        self.vllm_config = vllm_config
        self.default = server_default()
        self._lock: BatchLock | None = None
        self._error: BaseException | None = None

    @property
    def lock(self) -> BatchLock:
        if self._lock is None:
            if self._error is not None:  # tried once: every later request ends at once
                raise self._error
            try:
                self._lock = batch_lock_for(self.vllm_config)
            except Exception as exc:
                self._error = exc
                raise
        return self._lock

    def track(self, request: LockRequest, prompt_ids: Sequence[int]) -> TrackedRequest:
        """A request's lock; one that cannot be built is a broken request (it ends)."""
        try:
            lock = self.lock
        except Exception:
            log.error("langlock: cannot build the lock for this model", exc_info=True)
            return TrackedRequest.ended()
        return lock.track(request, prompt_ids)

    def feed(self, tracked: TrackedRequest, ids: Sequence[int]) -> None:
        if self._lock is not None:
            self._lock.feed(tracked, ids)

    def apply(
        self, logits: torch.Tensor, rows: list[int], tracked: list[TrackedRequest]
    ) -> torch.Tensor:
        if not rows:
            return logits
        if self._lock is None:  # every locked request here is broken: they end
            logits[torch.tensor(rows, device=logits.device)] = end_row(
                logits, model_eos(self.vllm_config)
            )
            return logits
        return self._lock.apply(logits, rows, tracked)


class _PersistentBatch:
    """The V1 runner: requests by persistent-batch index, each with its live output ids."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine
        self.requests: dict[int, tuple[TrackedRequest, list[int]]] = {}

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is None:
            return
        # vLLM's order: removed, then added (which may reuse those indices), then moved.
        for index in batch_update.removed:
            self.requests.pop(index, None)
        for index, params, prompt_ids, output_ids in batch_update.added:
            request = _request_for(params, self.engine.default)
            if request is None:
                self.requests.pop(index, None)
                continue
            tracked = self.engine.track(request, prompt_ids or [])
            self.requests[index] = (tracked, output_ids)
        for a, b, direction in batch_update.moved:
            moved_a = self.requests.pop(a, None)
            moved_b = self.requests.pop(b, None)
            if moved_a is not None:
                self.requests[b] = moved_a
            if moved_b is not None and direction == MoveDirectionality.SWAP:
                self.requests[a] = moved_b

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        rows: list[int] = []
        tracked: list[TrackedRequest] = []
        for index, (request, output_ids) in self.requests.items():
            if index >= logits.shape[0]:
                continue
            if len(output_ids) > request.seen:  # usually the one token sampled last step
                self.engine.feed(request, output_ids[request.seen :])
                request.seen = len(output_ids)
            rows.append(index)
            tracked.append(request)
        return self.engine.apply(logits, rows, tracked)


class _Slot:
    """A Model Runner V2 request slot: its settings and, once seen, its committed state."""

    __slots__ = ("request", "tracked")

    def __init__(self, request: LockRequest) -> None:
        self.request = request
        #: The state after the committed tokens; ``tracked.seen`` is how many.
        self.tracked: TrackedRequest | None = None


class _ModelRunnerV2:
    """Model Runner V2: requests by slot; rows mapped to slots every step."""

    def __init__(self, engine: _Engine, req_states: Any) -> None:
        self.engine = engine
        self.req_states = req_states
        self.slots: dict[int, _Slot] = {}

    def add_request(self, req_idx: int, sampling_params: SamplingParams) -> bool:
        request = _request_for(sampling_params, self.engine.default)
        if request is None:  # a recycled slot: drop its previous occupant's state
            self.slots.pop(req_idx, None)
            return False
        self.slots[req_idx] = _Slot(request)
        return True

    def apply(self, logits: torch.Tensor, ctx: Any) -> torch.Tensor:
        slots = ctx.expanded_idx_mapping.tolist()
        if not any(slot in self.slots for slot in slots):
            return logits
        local = ctx.expanded_local_pos.tolist()
        inputs = ctx.input_ids.tolist()
        positions = ctx.pos.tolist()
        order = sorted(range(len(slots)), key=lambda r: (slots[r], local[r]))
        rows: list[int] = []
        tracked: list[TrackedRequest] = []
        current: dict[int, TrackedRequest] = {}
        for row in order:
            slot = slots[row]
            if slot not in self.slots:
                continue
            if local[row] == 0:  # the request's committed token: its own state moves
                current[slot] = self._commit(slot, positions[row], inputs[row])
            else:  # a draft token: a fork of the state so far
                if slot not in current:  # a draft without its request's first row
                    current[slot] = TrackedRequest.ended()
                fork = current[slot].fork()
                self.engine.feed(fork, [inputs[row]])
                current[slot] = fork
            rows.append(row)
            tracked.append(current[slot])
        return self.engine.apply(logits, rows, tracked)

    def _commit(self, slot: int, position: int, token: int) -> TrackedRequest:
        """The slot's state after its sequence up to ``position``, whose token is
        ``token``: fed from where it stopped, or restarted from the prompt when it was
        still in the prompt (chunked prefill) or the sequence got shorter (preemption)."""
        entry = self.slots[slot]
        length = position + 1
        prompt_len = int(self.req_states.prompt_len.np[slot])
        tracked = entry.tracked
        if tracked is None or tracked.seen < prompt_len or length < tracked.seen:
            cut = min(prompt_len, length)
            ids = self._ids(slot, 0, cut, position, token)
            tracked = self.engine.track(entry.request, ids)
            tracked.seen = cut
        if length > tracked.seen:
            self.engine.feed(tracked, self._ids(slot, tracked.seen, length, position, token))
            tracked.seen = length
        entry.tracked = tracked
        return tracked

    def _ids(self, slot: int, start: int, end: int, position: int, token: int) -> list[int]:
        """Token ids of positions ``start..end`` of a slot's sequence; the one at
        ``position`` is this step's input (it may not be committed to the buffer yet)."""
        stored = self.req_states.all_token_ids.gpu[slot, start : min(end, position)].tolist()
        return [*stored, token] if start <= position < end else stored


#: The applying copy per engine config (by id; a dead engine's entry goes with it).
_LIVE: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_BASES = (
    (V1LogitsProcessor,) if V2LogitsProcessor is None else (V1LogitsProcessor, V2LogitsProcessor)
)


class VllmLock(*_BASES):  # type: ignore[misc]
    """The lock as a vLLM logits processor, for either runner: vLLM builds it with
    ``(vllm_config, device, is_pin_memory)`` under V1 and ``(vllm_config, req_states)``
    under Model Runner V2, and calls that interface's methods; one class, so one
    ``--logits-processors`` name and one entry point serve both (Model Runner V2 refuses a
    plugin that is not its own kind, which would stop every engine langlock is installed
    beside)."""

    def __init__(self, vllm_config: VllmConfig, *runner_args: Any) -> None:
        # Installed, langlock's entry point loads this class into every engine; named in
        # --logits-processors as well, vLLM builds it twice: the second copy stands aside
        # (two copies would apply standard's soft Latin penalty twice).
        twin = _LIVE.get(id(vllm_config))
        self.stands_aside = twin is not None
        if twin is None:
            _LIVE[id(vllm_config)] = self
        else:
            log.info("langlock: the lock is loaded twice for this engine; one copy applies")
        self.engine = _Engine(vllm_config)
        if len(runner_args) == 1:
            self.runner: _PersistentBatch | _ModelRunnerV2 = _ModelRunnerV2(
                self.engine, runner_args[0]
            )
        else:
            self.runner = _PersistentBatch(self.engine)

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        _request_for(sampling_params, server_default())

    def is_argmax_invariant(self) -> bool:
        return False  # it bans tokens greedy decoding would pick

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        """V1: requests added, removed and moved since the last step."""
        if isinstance(self.runner, _PersistentBatch) and not self.stands_aside:
            self.runner.update_state(batch_update)

    def add_request(self, req_idx: int, sampling_params: SamplingParams) -> bool:
        """Model Runner V2: a request enters a slot; whether this processor locks it."""
        if isinstance(self.runner, _ModelRunnerV2) and not self.stands_aside:
            return self.runner.add_request(req_idx, sampling_params)
        return False

    def apply_staged_writes(self) -> None:
        """Model Runner V2: nothing staged (the state lives on the host)."""

    def apply(self, logits: torch.Tensor, ctx: Any = None) -> torch.Tensor:
        if self.stands_aside:
            return logits
        if isinstance(self.runner, _ModelRunnerV2):
            return self.runner.apply(logits, ctx)
        return self.runner.apply(logits)
