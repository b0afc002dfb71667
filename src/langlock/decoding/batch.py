"""The lock over a batch of independent requests, for serving engines (vLLM): one
``LockState`` per request, one gather and one add per step for the whole batch.

An engine adapter (``langlock.decoding.vllm``) maps its logits rows to requests and feeds
each request the tokens it emitted; :class:`BatchLock` does the masking. Every distinct mask
row the batch needs lives once in a device tensor (the *bank*), so a step is
``logits.index_add_(0, rows, bank[keys])`` whatever the batch holds; the Python work per
step is per request (its state key), never per vocabulary entry.

Fails closed: a row the masks leave with no token, or a step that raises, can only end.
Imports torch; load it only where torch is installed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from langlock.decoding.llama_cpp import end_only
from langlock.decoding.state import LockMasks, LockState, StateKey, warn_all_banned
from langlock.decoding.token_bytes import TokenTable
from langlock.policy import PRESETS, Policy, available_languages, script_name

log = logging.getLogger(__name__)

#: The request arguments (vLLM's ``SamplingParams.extra_args``, the REST body's
#: ``vllm_xargs``): the target language turns the lock on for that request.
ARG_LANG = "langlock"
ARG_PRESET = "langlock_preset"
ARG_ALLOW_SCRIPTS = "langlock_allow_scripts"
ARG_OPEN_NATIVE = "langlock_open_native"
#: Values of ``langlock`` that turn a server-wide default off for one request.
_OFF = {"off", "none", "false", "0", ""}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class LockRequest:
    """What one request is locked to: language, preset, opened scripts, ``open_native``.

    >>> r = LockRequest.from_args({"langlock": "uk", "langlock_allow_scripts": "han,Greek"})
    >>> r.lang, r.preset, sorted(r.allow_scripts), r.open_native
    ('uk', 'strict', ['Greek', 'Han'], False)
    >>> LockRequest.from_args({"temperature": 0.7}) is None
    True
    >>> LockRequest.from_args({"langlock": "off"}, default=LockRequest("ru")) is None
    True
    >>> LockRequest.from_args({"langlock": "../../etc/passwd"})
    Traceback (most recent call last):
    ...
    ValueError: langlock: unknown target language '../../etc/passwd'; available: en, ru, uk
    """

    lang: str = "ru"
    preset: str = "strict"
    allow_scripts: frozenset[str] = frozenset()
    open_native: bool = False

    @classmethod
    def from_args(
        cls, args: Mapping[str, Any] | None, default: LockRequest | None = None
    ) -> LockRequest | None:
        """The lock a request asks for (None: not locked). Without ``langlock`` in
        ``args`` the request gets ``default``; the other keys refine either. Raises
        ``ValueError`` naming the bad argument, so an engine can refuse the request."""
        args = args or {}
        lang = args.get(ARG_LANG)
        if lang is None:
            base = default
        elif not isinstance(lang, str):
            raise ValueError(f"{ARG_LANG}: a language code is a string, not {lang!r}")
        elif lang.strip().casefold() in _OFF:
            return None
        else:
            base = cls(lang=lang.strip())
        if base is None:
            return None
        preset = args.get(ARG_PRESET, base.preset)
        scripts = args.get(ARG_ALLOW_SCRIPTS)
        request = cls(
            lang=base.lang,
            preset=preset,
            allow_scripts=base.allow_scripts if scripts is None else _scripts(scripts),
            open_native=_flag(args.get(ARG_OPEN_NATIVE, base.open_native), ARG_OPEN_NATIVE),
        )
        request.validate()
        return request

    def validate(self) -> None:
        """Raise ``ValueError`` for a language or preset langlock does not ship; the
        language is checked against the shipped list before any file is looked up."""
        if self.lang not in available_languages():
            raise ValueError(
                f"{ARG_LANG}: unknown target language {self.lang!r}; "
                f"available: {', '.join(available_languages())}"
            )
        if self.preset not in PRESETS:
            raise ValueError(
                f"{ARG_PRESET}: unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}"
            )


def _scripts(value: Any) -> frozenset[str]:
    """Script names from a list or a comma-separated string.

    >>> sorted(_scripts("han, greek")), sorted(_scripts(["Han"]))
    (['Greek', 'Han'], ['Han'])
    """
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{ARG_ALLOW_SCRIPTS}: script names, not {value!r}")
    try:
        return frozenset(script_name(n) for n in names if n.strip())
    except ValueError as exc:
        raise ValueError(f"{ARG_ALLOW_SCRIPTS}: {exc}") from None


def _flag(value: Any, name: str) -> bool:
    """A boolean argument, also as the strings a query string or ``vllm_xargs`` carries.

    >>> _flag("true", "x"), _flag(0, "x"), _flag(True, "x")
    (True, False, True)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
        return value.strip().casefold() in _TRUE
    raise ValueError(f"{name}: true or false, not {value!r}")


@dataclass
class TrackedRequest:
    """One locked request: its masks, its state, and how many of its tokens the state has
    seen (the engine adapter decides what that count is of)."""

    masks: LockMasks
    state: LockState
    seen: int = 0
    #: Set when the request's state could not be built or fed: its rows can only end.
    broken: bool = False

    @classmethod
    def ended(cls, masks: LockMasks | None = None) -> TrackedRequest:
        """A request whose lock could not be built or fed: its rows can only end."""
        return cls(masks, LockState(), broken=True)  # type: ignore[arg-type]

    def fork(self) -> TrackedRequest:
        """A copy whose state can be fed without touching this one (a draft token)."""
        return dataclasses.replace(self, state=dataclasses.replace(self.state))


@dataclass
class _Bank:
    """Mask rows on the logits' device, one per distinct (masks, state key)."""

    rows: torch.Tensor
    index: dict[tuple[int, StateKey], int] = field(default_factory=dict)


class BatchLock:
    """The lock for a batch of requests with per-request languages and presets.

    ``end_ids`` are the tokens a row that cannot go on is left with (the model's EOS).
    ``max_bank_rows`` bounds the device memory the cached mask rows take (each row is one
    logits row: 0.6 MB at a 152k vocabulary in float32); past it the bank starts over.
    """

    def __init__(
        self, table: TokenTable, end_ids: Sequence[int] = (), max_bank_rows: int = 256
    ) -> None:
        self.table = table
        self.end_ids = tuple(end_ids) or tuple(sorted(table.special))
        self.max_bank_rows = max_bank_rows
        self._masks: dict[LockRequest, LockMasks] = {}
        self._masks_id: dict[int, int] = {}
        self._bank: _Bank | None = None
        self._end_rows: dict[tuple[int, Any, Any], torch.Tensor] = {}
        #: Errors caught inside steps (each ended the rows it hit); engines log them.
        self.failures: list[BaseException] = []

    def masks_for(self, request: LockRequest) -> LockMasks:
        """The masks for a request's settings, built once per distinct settings."""
        if request not in self._masks:
            request.validate()
            policy = Policy.from_options(lang=request.lang, preset=request.preset)
            masks = LockMasks(
                self.table,
                policy,
                allow_scripts=request.allow_scripts,
                open_native=request.open_native,
            )
            self._masks[request] = masks
            self._masks_id[id(masks)] = len(self._masks_id)
        return self._masks[request]

    def track(self, request: LockRequest, prompt_ids: Sequence[int]) -> TrackedRequest:
        """A request's lock from its prompt ids (its prefill after the last special token is
        the answer's start). Never raises: a failure gives a broken request, which ends."""
        try:
            masks = self.masks_for(request)
            return TrackedRequest(masks, masks.start(prompt_ids))
        except Exception as exc:
            self._fail(exc)
            masks = next(iter(self._masks.values()), None)
            return TrackedRequest.ended(masks)

    def feed(self, tracked: TrackedRequest, ids: Sequence[int]) -> None:
        """Account for tokens the request emitted."""
        if tracked.broken or not len(ids):
            return
        try:
            tracked.masks.advance(tracked.state, ids)
        except Exception as exc:
            self._fail(exc)
            tracked.broken = True

    def apply(
        self, logits: torch.Tensor, rows: Sequence[int], tracked: Sequence[TrackedRequest]
    ) -> torch.Tensor:
        """Mask ``logits`` in place: row ``rows[i]`` under ``tracked[i]``; other rows are
        left alone. Returns ``logits``."""
        if not rows:
            return logits
        try:
            self._apply(logits, list(rows), tracked)
        except Exception as exc:  # fail closed: every locked row of this step ends
            self._fail(exc)
            index = torch.tensor(list(rows), device=logits.device)
            logits[index] = self._end_row(logits)
        return logits

    def _apply(
        self, logits: torch.Tensor, rows: list[int], tracked: Sequence[TrackedRequest]
    ) -> None:
        width = logits.shape[1]
        live = [(row, t) for row, t in zip(rows, tracked, strict=True) if not t.broken]
        broken = [row for row, t in zip(rows, tracked, strict=True) if t.broken]
        if live:
            keys = [(self._masks_id[id(t.masks)], t.masks.key(t.state)) for _, t in live]
            bank = self._bank_for(keys, [t.masks for _, t in live], logits)
            device = logits.device
            index = torch.tensor([row for row, _ in live], device=device)
            penalty = bank.rows.index_select(
                0, torch.tensor([bank.index[k] for k in keys], device=device)
            )
            if len(live) == logits.shape[0] and rows == list(range(len(rows))):
                logits.add_(penalty)
            else:
                logits.index_add_(0, index, penalty)
            for row, t in live:  # a third copy of a line: a loop (rare, small)
                loop = t.masks.loop_ban(t.state)
                if loop is not None and len(loop):
                    ids = torch.from_numpy(loop[loop < width]).to(device)
                    logits[row, ids] = float("-inf")
            alive = torch.isfinite(logits.index_select(0, index)).any(dim=1)
            if not bool(alive.all()):  # fail closed: such a row can only end
                warn_all_banned()
                broken += index[~alive].tolist()
        if broken:
            logits[torch.tensor(broken, device=logits.device)] = self._end_row(logits)

    def _bank_for(
        self, keys: list[tuple[int, StateKey]], masks: list[LockMasks], logits: torch.Tensor
    ) -> _Bank:
        """The bank holding a row for every key, built on first need."""
        width = logits.shape[1]
        bank = self._bank
        if bank is None or bank.rows.shape[1] != width or bank.rows.device != logits.device:
            bank = self._bank = _Bank(logits.new_zeros((8, width)))
        new = {k: m for k, m in zip(keys, masks, strict=True) if k not in bank.index}
        if not new:
            return bank
        if len(bank.index) + len(new) > self.max_bank_rows:
            bank.index.clear()
            new = dict(zip(keys, masks, strict=True))
        needed = len(bank.index) + len(new)
        if needed > bank.rows.shape[0]:
            grown = logits.new_zeros((max(needed, 2 * bank.rows.shape[0]), width))
            grown[: bank.rows.shape[0]] = bank.rows
            bank.rows = grown
        for key, row_masks in new.items():
            row = row_masks.row(key[1], width)
            slot = len(bank.index)
            bank.rows[slot] = torch.from_numpy(row.penalty).to(bank.rows)
            bank.index[key] = slot
        return bank

    def _end_row(self, logits: torch.Tensor) -> torch.Tensor:
        """A logits row that allows only the end of text."""
        return end_row(logits, self.end_ids, self._end_rows)

    def _fail(self, exc: BaseException) -> None:
        log.error("langlock: the lock failed; the rows it hit can only end", exc_info=exc)
        self.failures.append(exc)
        del self.failures[:-64]  # bounded: an engine runs for weeks


def end_row(
    logits: torch.Tensor,
    end_ids: Sequence[int],
    cache: dict[tuple[int, Any, Any], torch.Tensor] | None = None,
) -> torch.Tensor:
    """A row of ``logits``' width, device and dtype that allows only ``end_ids``
    (``end_only``'s row), kept in ``cache`` when given."""
    key = (logits.shape[1], logits.device, logits.dtype)
    if cache is not None and key in cache:
        return cache[key]
    row = torch.empty(logits.shape[1], dtype=logits.dtype)
    end_only(row, tuple(end_ids))
    row = row.to(logits.device)
    if cache is not None:
        cache[key] = row
    return row
