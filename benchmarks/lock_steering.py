"""The lock alone (no frame) with and without ``open_native``, on the same prompts and seeds.

    .venv/bin/python benchmarks/lock_steering.py --mode lock   # the baseline
    .venv/bin/python benchmarks/lock_steering.py --mode open   # the first word must be native
    .venv/bin/python benchmarks/lock_steering.py --mode none   # no lock
    .venv/bin/python benchmarks/lock_steering.py --mode open --frame   # frame+lock, opened

Every ``--every``-th built-in Russian prompt, one answer each (T 0.7, 96 tokens, seed = the
prompt's index, repeat penalty 1.1), bundled Gemma 3 270M in llama.cpp on one thread, scored
by the eval's own ``score_answer`` (pass, degenerate). Run two modes as two processes to
use both cores; each prints its pass and degenerate rates, per category too.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langlock.decoding import lock  # noqa: E402
from langlock.decoding.bundled import bundled_model_path  # noqa: E402
from langlock.decoding.generation import llama_answer  # noqa: E402
from langlock.eval.prompts import builtin_prompts  # noqa: E402
from langlock.eval.scoring import score_answer  # noqa: E402
from langlock.guarding.frames import load_frame, messages_for  # noqa: E402
from langlock.policy import Policy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("none", "lock", "open"), default="lock")
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--frame", action="store_true", help="Russian frame (frame+lock)")
    args = parser.parse_args()
    import llama_cpp

    prompts = builtin_prompts("ru")[:: args.every]
    llama = llama_cpp.Llama(
        model_path=str(bundled_model_path()), n_ctx=2048, n_threads=1, verbose=False
    )
    policy = Policy.from_options(lang="ru", preset="standard")
    processor = None
    if args.mode != "none":
        processor = lock(llama, preset="strict", open_native=args.mode == "open")
    frame = load_frame("ru") if args.frame else None
    name = f"{'frame+' if args.frame else ''}{args.mode}"
    totals: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    started = time.perf_counter()
    for index, prompt in enumerate(prompts):
        options = {"temperature": 0.7, "seed": index, "max_tokens": args.max_tokens}
        if processor is not None:
            options["logits_processor"] = processor
        options["repeat_penalty"] = 1.1
        reply = llama_answer(llama, messages_for(prompt.prompt, frame), **options)
        score = score_answer(reply.text, prompt.prompt, policy)
        for key in ("all", prompt.category):
            totals[key][0] += 1
            totals[key][1] += bool(score["ok"])
            totals[key][2] += bool(score["degenerate"])
    seconds = time.perf_counter() - started
    for key, (count, passed, degenerate) in sorted(totals.items()):
        print(
            f"{name:10} {key:20} n={count:3}  pass {passed / count:6.1%}  "
            f"degenerate {degenerate / count:6.1%}"
        )
    print(f"{name}: {len(prompts)} answers in {seconds:.0f} s")


if __name__ == "__main__":
    main()
