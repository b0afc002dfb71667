"""Where records are judged: in this process, a local process pool, or Ray Data.

All engines take numbered items in order and give back (item, outcome) in the same order,
so every engine writes the same bytes. At most a bounded window of chunks is in flight, so
memory stays flat however large the input is.
"""

from __future__ import annotations

import gc
import pickle
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

from langlock.clean.cleaner import Outcome, RecordCleaner
from langlock.clean.io import Item
from langlock.policy import Policy

CHUNK = 256
#: Ray Data pays a per-batch cost (scheduling, Arrow conversion, object store), so its
#: chunks are larger.
RAY_CHUNK = 2048


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


def warm_up(spec: CleanerSpec) -> None:
    """Load every lazily loaded word list now, by checking a short multilingual text
    (``data/warmup.txt``: English, Romance, Germanic, Slavic, transliteration, mojibake)."""
    from importlib import resources

    text = (resources.files("langlock") / "data" / "warmup.txt").read_text(encoding="utf-8")
    _cleaner(spec).clean({"text": text})


def _chunks(items: Iterable[Item], size: int = CHUNK) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
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
    # Load the word lists before forking: the workers share those pages instead of each
    # loading its own copy (memory stays near one process's, not N times it).
    warm_up(spec)
    gc.freeze()
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


def _ray_clean(batch: dict[str, Any], spec: bytes) -> dict[str, Any]:
    """A Ray Data task: judges chunks that the driver spilled to disk and returns the
    outcomes pickled (records of any shape are not Arrow rows). Worker processes are reused
    across tasks, so each loads its word lists once (``_cleaner`` is cached per process)."""
    cleaner_spec: CleanerSpec = pickle.loads(spec)
    out = []
    for path in batch["path"]:
        records = pickle.loads(Path(path).read_bytes())
        outcomes = clean_chunk(cleaner_spec, records)
        for outcome, record in zip(outcomes, records, strict=True):
            if outcome.record is record:  # kept as it was: the driver has it already
                outcome.record = None
        out.append(pickle.dumps(outcomes))
    return {"index": batch["index"], "data": out}


def run_ray(
    spec: CleanerSpec, items: Iterable[Item], workers: int, address: str | None = None
) -> Iterator[tuple[Item, Outcome | None]]:
    """Ray Data, on an existing cluster (``address``) or a local one with ``workers`` CPUs.

    A thread reads the input, spilling chunks of records to a scratch folder (disk, not
    memory), while Ray starts. Then, wave after wave, every chunk spilled so far runs as a
    Dataset of chunk paths through ``map_batches`` tasks, at most ``workers`` at a time
    (worker processes are reused, so word lists load once per process), and the results
    stream back in order while later chunks are still being judged and spilled. On a
    cluster the scratch folder (``LANGLOCK_SCRATCH``, default the system temp folder) must
    be on storage every node can read.
    """
    import os
    import shutil
    import tempfile

    import ray

    scratch = Path(tempfile.mkdtemp(prefix="langlock-ray-", dir=os.environ.get("LANGLOCK_SCRATCH")))
    try:
        # Ray takes seconds to start its daemons: the input is read and spilled in a
        # thread meanwhile.
        spill = _Spill(items, scratch)
        spill.start()
        if not ray.is_initialized():
            options: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
            ray.init(include_dashboard=False, log_to_driver=False, **options)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        done = 0
        # A wave: every chunk spilled so far (at least one per worker, unless the input ended).
        while (ready := spill.wait_for(done + workers)) > done:
            rows = [{"index": n, "path": spill.spilled[n][1]} for n in range(done, ready)]
            blocks = min(len(rows), 200)
            dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
                _ray_clean,
                fn_kwargs={"spec": pickle.dumps(spec)},
                batch_size=1,
                concurrency=workers,
            )
            for n, row in enumerate(dataset.iter_rows(), done):
                if int(row["index"]) != n:
                    raise RuntimeError("Ray Data returned chunks out of order")
                chunk, path = spill.spilled[n]
                records = iter(pickle.loads(Path(path).read_bytes()))
                restored = [
                    i if i.record is None else Item(i.index, i.source, next(records)) for i in chunk
                ]
                for item, outcome in _pair(restored, pickle.loads(row["data"])):
                    kept = outcome is not None and outcome.status != "rejected"
                    if kept and outcome.record is None:  # type: ignore[union-attr]
                        outcome.record = item.record  # type: ignore[union-attr]
                    yield item, outcome
                Path(path).unlink()
            done = ready
        spill.result()  # the reader's error, if it failed
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Spill(threading.Thread):
    """Reads the input and writes chunks of records to the scratch folder, keeping only
    the items' places in memory."""

    def __init__(self, items: Iterable[Item], scratch: Path) -> None:
        super().__init__(name="langlock-spill", daemon=True)
        self.items = items
        self.scratch = scratch
        self.spilled: list[tuple[list[Item], str]] = []
        self.error: BaseException | None = None
        self.finished = False
        self.changed = threading.Condition()

    def run(self) -> None:
        try:
            for n, chunk in enumerate(_chunks(self.items, RAY_CHUNK)):
                path = self.scratch / f"{n:08d}.pickle"
                path.write_bytes(pickle.dumps(_records(chunk)))
                with self.changed:
                    self.spilled.append(([_placeholder(i) for i in chunk], str(path)))
                    self.changed.notify_all()
        except BaseException as exc:  # handed to the caller, which re-raises it
            self.error = exc
        finally:
            with self.changed:
                self.finished = True
                self.changed.notify_all()

    def wait_for(self, count: int) -> int:
        """Wait until ``count`` chunks are spilled or the input ended; how many there are.
        A failed reader stops the run here, with its error."""
        with self.changed:
            self.changed.wait_for(lambda: self.finished or len(self.spilled) >= count)
            if self.error is not None:
                raise self.error
            return len(self.spilled)

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


def _placeholder(item: Item) -> Item:
    """An item without its record (kept on disk), marked readable with an empty dict."""
    return item if item.record is None else Item(item.index, item.source, {})
