"""Where records are judged: in this process, a local process pool, or Ray Data.

Every engine takes the input's pieces in order (blocks of raw lines, or chunks of records)
and gives back each piece ``Judged`` (parsed, judged and rendered in a worker), in the same
order, so every engine writes the same bytes. At most a bounded window of pieces is in
flight, so memory stays flat however large the input is.
"""

from __future__ import annotations

import gc
import pickle
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from langlock.clean.cleaner import CleanMode, RecordCleaner
from langlock.clean.judging import Judged, judge
from langlock.clean.readers import CorpusKind, LineBlock, Piece, piece_items
from langlock.clean.records import AUTO
from langlock.policy import Policy, PresetName


class EngineName(StrEnum):
    """Where records are judged. ``inline`` (this process, no pool) is the baseline that
    tests and benchmarks measure the others against; ``--engine`` offers the others."""

    local = "local"
    ray = "ray"
    inline = "inline"


@dataclass(frozen=True, kw_only=True)
class CleanerSpec:
    """Everything a worker needs to build the same cleaner (picklable, hashable)."""

    lang: str = "ru"
    preset: str = PresetName.standard
    allow: tuple[str, ...] = ()
    mode: str = CleanMode.drop
    fmt: str = AUTO
    roles: tuple[str, ...] = ("assistant",)
    text_field: str | None = None
    config: str | None = None

    def build(self) -> RecordCleaner:
        policy = Policy.from_options(
            lang=self.lang, preset=self.preset, allow=self.allow, config=self.config
        )
        return RecordCleaner(
            policy, mode=self.mode, fmt=self.fmt, roles=self.roles, text_field=self.text_field
        )


@cache
def _cleaner(spec: CleanerSpec) -> RecordCleaner:
    """One cleaner per process and spec (word lists load once)."""
    return spec.build()


def judge_piece(spec: CleanerSpec, output_kind: CorpusKind, piece: Piece) -> Judged:
    """What a worker does with one piece: parse it, judge every record, render the results
    (and count its blank lines, which hold no record)."""
    judged = judge(_cleaner(spec), piece_items(piece), output_kind)
    if isinstance(piece, LineBlock):
        judged.stats.add_blank(piece.blank_lines)
    return judged


def warm_up(spec: CleanerSpec) -> None:
    """Load every lazily loaded word list now, by checking a short multilingual text
    (``data/warmup.txt``: English, Romance, Germanic, Slavic, transliteration, mojibake)."""
    from importlib import resources

    text = (resources.files("langlock") / "data" / "warmup.txt").read_text(encoding="utf-8")
    _cleaner(spec).clean({"text": text})


def run_inline(
    spec: CleanerSpec, output_kind: CorpusKind, pieces: Iterable[Piece]
) -> Iterator[Judged]:
    """One process: the baseline the others are measured against."""
    for piece in pieces:
        yield judge_piece(spec, output_kind, piece)


def run_pool(
    spec: CleanerSpec, output_kind: CorpusKind, pieces: Iterable[Piece], workers: int
) -> Iterator[Judged]:
    """A local process pool; at most ``4 × workers`` pieces in flight (``Pool.imap`` would
    read the whole input ahead)."""
    import multiprocessing

    if workers <= 1:
        yield from run_inline(spec, output_kind, pieces)
        return
    # Load the word lists before forking: the workers share those pages instead of each
    # loading its own copy (memory stays near one process's, not N times it).
    warm_up(spec)
    gc.freeze()
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_signals) as pool:
        window: deque[Any] = deque()
        for piece in pieces:
            window.append(pool.apply_async(judge_piece, (spec, output_kind, piece)))
            if len(window) >= 4 * workers:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()


def _worker_signals() -> None:
    """A pool worker leaves interrupts to the process that started it: Ctrl-C is ignored
    (the parent stops the pool), SIGTERM ends it at once, without a traceback (a forked
    worker would otherwise inherit the parent's handler, which raises)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _ray_judge(
    batch: dict[str, Any], spec: CleanerSpec, output_kind: CorpusKind, scratch: str
) -> dict[str, Any]:
    """A Ray Data task: judges a run of pieces that the driver spilled to disk and returns
    them ``Judged``, pickled together. Worker processes are reused across tasks, so each
    loads its word lists once (``_cleaner`` is cached per process)."""
    data = []
    for first, count in zip(batch["first"], batch["count"], strict=True):
        pieces = (_spilled(scratch, n).read_bytes() for n in range(first, first + count))
        data.append(pickle.dumps([judge_piece(spec, output_kind, pickle.loads(p)) for p in pieces]))
    return {"first": batch["first"], "data": data}


def _spilled(scratch: str | Path, number: int) -> Path:
    return Path(scratch) / f"{number:08d}.pickle"


def guided_runs(first: int, end: int, slots: int, longest: int = 32) -> list[tuple[int, int]]:
    """Pieces ``first..end-1`` as runs (first, count) for tasks: each run takes an equal
    share of what is left among twice the task slots, at most ``longest`` pieces, so
    runs shrink to single pieces at the end (guided self-scheduling). Ray Data pays about
    0.2 s between two tasks on a worker: long tasks pay it rarely, short last ones leave no
    worker waiting long, and the cap bounds what one task's result holds.

    >>> [count for _, count in guided_runs(0, 48, 2)]
    [12, 9, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1]
    >>> guided_runs(0, 3, 2)
    [(0, 1), (1, 1), (2, 1)]
    """
    runs = []
    while first < end:
        count = max(1, min(longest, (end - first) // (2 * slots)))
        runs.append((first, count))
        first += count
    return runs


def run_ray(
    spec: CleanerSpec,
    output_kind: CorpusKind,
    pieces: Iterable[Piece],
    workers: int,
    address: str | None = None,
) -> Iterator[Judged]:
    """Ray Data, on an existing cluster (``address``) or a local one with ``workers`` CPUs.

    A thread reads the input, spilling its pieces to a scratch folder (disk, not memory),
    while Ray starts, and one task per CPU loads the word lists into the worker processes
    while Ray Data starts. Then, wave after wave, every piece spilled so far runs as a Dataset
    of runs of pieces (``guided_runs``) through ``map_batches`` tasks, as many at a time as
    the cluster has CPUs, and the results stream back in order while later pieces are still
    being judged and spilled. Tasks rather than an actor pool: worker processes outlive a
    wave, so each loads its word lists once, where every wave would start new actors. On a
    cluster the scratch folder (``LANGLOCK_SCRATCH``, default the system temp folder) must be
    on storage every node can read.
    """
    import os
    import shutil
    import tempfile

    import ray

    scratch = Path(tempfile.mkdtemp(prefix="langlock-ray-", dir=os.environ.get("LANGLOCK_SCRATCH")))
    try:
        # Ray takes seconds to start its daemons: the input is read and spilled in a
        # thread meanwhile.
        spill = _Spill(pieces, scratch)
        spill.start()
        if not ray.is_initialized():
            # "local": a Ray of our own even where `ray start` left a cluster running, which
            # ray.init() would otherwise join (and refuse ``num_cpus`` for).
            options: dict[str, Any] = (
                {"address": address} if address else {"address": "local", "num_cpus": workers}
            )
            try:
                ray.init(include_dashboard=False, log_to_driver=False, **options)
            except ConnectionError as error:
                # Ray sends a token only when told to, and then blames a crashed cluster.
                raise ConnectionError(
                    f"{error}. A cluster with token authentication needs RAY_AUTH_MODE=token"
                    " and its token in RAY_AUTH_TOKEN (or ~/.ray/auth_token)."
                ) from error
        slots = max(1, int(ray.cluster_resources().get("CPU", workers)))
        # Worker processes load their word lists while Ray Data is imported and starts
        # (CPUs are partly idle then); its tasks then run in the same, warm processes.
        warm = ray.remote(num_cpus=1)(warm_up)
        for _ in range(slots):
            warm.remote(spec)  # a failure here shows again, with its error, in the tasks
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        done = 0
        # A wave: every piece spilled so far (at least one per worker, unless the input ended).
        while (ready := spill.wait_for(done + workers)) > done:
            runs = guided_runs(done, ready, slots)
            rows = [{"first": first, "count": count} for first, count in runs]
            dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
            judged = dataset.map_batches(
                _ray_judge,
                fn_kwargs={
                    "spec": spec,
                    "output_kind": output_kind,
                    "scratch": str(scratch),
                },
                batch_size=1,
            )
            for (first, count), row in zip(runs, judged.iter_rows(), strict=True):
                if int(row["first"]) != first:
                    raise RuntimeError("Ray Data returned pieces out of order")
                yield from pickle.loads(row["data"])
                for n in range(first, first + count):
                    _spilled(scratch, n).unlink()
            done = ready
        spill.result()  # the reader's error, if it failed
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Spill(threading.Thread):
    """Reads the input and writes its pieces to the scratch folder, numbered; only their
    count stays in memory."""

    def __init__(self, pieces: Iterable[Piece], scratch: Path) -> None:
        super().__init__(name="langlock-spill", daemon=True)
        self.pieces = pieces
        self.scratch = scratch
        self.spilled = 0
        self.error: BaseException | None = None
        self.finished = False
        self.changed = threading.Condition()

    def run(self) -> None:
        try:
            for n, piece in enumerate(self.pieces):
                _spilled(self.scratch, n).write_bytes(pickle.dumps(piece))
                with self.changed:
                    self.spilled += 1
                    self.changed.notify_all()
        except BaseException as exc:  # handed to the caller, which re-raises it
            self.error = exc
        finally:
            with self.changed:
                self.finished = True
                self.changed.notify_all()

    def wait_for(self, count: int) -> int:
        """Wait until ``count`` pieces are spilled or the input ended; how many there are.
        A failed reader stops the run here, with its error."""
        with self.changed:
            self.changed.wait_for(lambda: self.finished or self.spilled >= count)
            if self.error is not None:
                raise self.error
            return self.spilled

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error
