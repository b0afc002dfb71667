"""Where records are judged: in this process, a local process pool, or Ray Data.

All engines take numbered items in order and give back (item, outcome) in the same order,
so every engine writes the same bytes. At most a bounded window of chunks is in flight, so
memory stays flat however large the input is.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from itertools import islice
from typing import Any

from langlock.clean.cleaner import Outcome, RecordCleaner
from langlock.clean.io import Item
from langlock.policy import Policy

CHUNK = 256


@dataclass(frozen=True)
class CleanerSpec:
    """Everything a worker needs to build the same cleaner (picklable, hashable)."""

    lang: str = "ru"
    preset: str = "standard"
    allow: tuple[str, ...] = ()
    mode: str = "drop"
    fmt: str = "auto"
    roles: tuple[str, ...] = ("assistant",)
    text_field: str | None = None
    config: str | None = field(default=None)

    def build(self) -> RecordCleaner:
        policy = Policy.from_options(
            lang=self.lang, preset=self.preset, allow=self.allow, config=self.config
        )
        return RecordCleaner(policy, self.mode, self.fmt, self.roles, self.text_field)  # type: ignore[arg-type]


@cache
def _cleaner(spec: CleanerSpec) -> RecordCleaner:
    """One cleaner per process and spec (word lists load once)."""
    return spec.build()


def clean_chunk(spec: CleanerSpec, records: list[dict[str, Any]]) -> list[Outcome]:
    cleaner = _cleaner(spec)
    return [cleaner.clean(r) for r in records]


def _chunks(items: Iterable[Item]) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _records(chunk: list[Item]) -> list[dict[str, Any]]:
    return [i.record for i in chunk if i.record is not None]


def _pair(chunk: list[Item], outcomes: list[Outcome]) -> Iterator[tuple[Item, Outcome | None]]:
    """Put the outcomes back beside their items (unreadable items have none)."""
    results = iter(outcomes)
    for item in chunk:
        yield item, (next(results) if item.record is not None else None)


def run_inline(spec: CleanerSpec, items: Iterable[Item]) -> Iterator[tuple[Item, Outcome | None]]:
    """One process: the baseline the others are measured against."""
    for chunk in _chunks(items):
        yield from _pair(chunk, clean_chunk(spec, _records(chunk)))


def run_pool(
    spec: CleanerSpec, items: Iterable[Item], workers: int
) -> Iterator[tuple[Item, Outcome | None]]:
    """A local process pool; at most ``4 × workers`` chunks in flight (``Pool.imap`` would
    read the whole input ahead)."""
    import multiprocessing

    if workers <= 1:
        yield from run_inline(spec, items)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        window: deque[tuple[list[Item], Any]] = deque()
        for chunk in _chunks(items):
            window.append((chunk, pool.apply_async(clean_chunk, (spec, _records(chunk)))))
            if len(window) >= 4 * workers:
                done, result = window.popleft()
                yield from _pair(done, result.get())
        while window:
            done, result = window.popleft()
            yield from _pair(done, result.get())


def _ray_batch(batch: dict[str, Any], spec_json: str) -> dict[str, Any]:
    """A Ray Data batch of chunks: JSON in, JSON out (records of any shape are not Arrow
    rows)."""
    spec = CleanerSpec(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(spec_json).items()}
    )
    out = []
    for data in batch["data"]:
        outcomes = clean_chunk(spec, json.loads(data))
        out.append(json.dumps([asdict(o) for o in outcomes], ensure_ascii=False))
    return {"index": batch["index"], "data": out}


def run_ray(
    spec: CleanerSpec, items: Iterable[Item], workers: int, address: str | None = None
) -> Iterator[tuple[Item, Outcome | None]]:
    """Ray Data, on an existing cluster (``address``) or a local one with ``workers`` CPUs.
    Windows of ``16 × workers`` chunks go through ``map_batches`` in order."""
    import ray

    if not ray.is_initialized():
        options: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, **options)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    spec_json = json.dumps(asdict(spec))
    chunks = _chunks(items)
    while window := list(islice(chunks, 16 * workers)):
        rows = [
            {"index": n, "data": json.dumps(_records(chunk), ensure_ascii=False)}
            for n, chunk in enumerate(window)
        ]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _ray_batch,
            fn_kwargs={"spec_json": spec_json},
            batch_size=1,
            concurrency=workers,
        )
        results = {int(row["index"]): row["data"] for row in dataset.iter_rows()}
        for n, chunk in enumerate(window):
            outcomes = [Outcome(**o) for o in json.loads(results[n])]
            yield from _pair(chunk, outcomes)
