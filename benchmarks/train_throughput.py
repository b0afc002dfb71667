"""Seconds per step and peak memory of the preference losses, against plain SFT on the same
pairs (the baseline: one forward and backward pass over the chosen side only).

    .venv/bin/python benchmarks/train_throughput.py [--pairs FILE] [--steps 6] [--model bundled]
                                                    [--threads 1]

Each loss trains in a process of its own (peak memory is a per-process figure), on the same
pairs, model, LoRA rank, batch and sequence length, the model loading untimed; the first
step is dropped (allocations, dataset preparation), the rest are timed. The losses run in
turn, SFT first and last, so the drift of a shared machine shows in the two SFT rows and the
ratio uses their mean.

Without ``--pairs``, pairs are made from the corruption recipes over a few clean Russian
answers (the shapes of real pairs: one shared answer, one slip).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CLEAN = [
    "Чтобы сварить гречку, промойте крупу, залейте её водой в пропорции один к двум и варите "
    "под крышкой на малом огне около пятнадцати минут. Потом дайте ей постоять.",
    "Хеш-таблица хранит пары ключ и значение. По ключу вычисляется номер ячейки, поэтому "
    "поиск, вставка и удаление в среднем занимают постоянное время.",
    "Осенью дни становятся короче, и деревья готовятся к зиме. Хлорофилл разрушается, и "
    "становятся видны жёлтые и оранжевые пигменты, которые были в листьях всё лето.",
    "Оперативная память хранит данные, с которыми программа работает сейчас, и теряет их "
    "при выключении. Жёсткий диск медленнее, но хранит файлы годами.",
]
LOSSES = ("sft", "dpo", "dpo+sft", "orpo", "sft")


def make_pairs(path: Path) -> int:
    from langlock.training.corrupt import RECIPES, corrupt_pairs

    answers = [([{"role": "user", "content": "Расскажи подробно."}], text) for text in CLEAN]
    pairs, _ = corrupt_pairs(answers, kinds=list(RECIPES), rng_seed=0, lang="ru")
    with path.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair, ensure_ascii=False) + "\n")
    return len(pairs)


def one_loss(
    loss: str, pairs: Path, steps: int, model: str, out: Path, threads: int
) -> dict[str, float]:
    """Train ``steps`` steps in this process; time steps after the first."""
    import time

    import torch

    torch.set_num_threads(threads)
    from transformers import TrainerCallback

    from langlock.training.model import load_model
    from langlock.training.pairs import read_pairs
    from langlock.training.train import (
        LossName,
        Renderer,
        RunFolder,
        TrainSettings,
        build_trainer,
        peak_memory_mb,
        training_rows,
    )

    settings = TrainSettings(
        model=model, loss=LossName(loss), steps=steps, batch_size=1, grad_accum=1, rank=16
    )
    loaded = load_model(model)
    rows = training_rows(read_pairs(pairs), loaded.tokenizer)
    loaded.tokenizer.eos_token = Renderer(loaded.tokenizer).end
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args: object, state: object, control: object, **kw: object) -> None:
            stamps.append(time.perf_counter())

    trainer = build_trainer(
        loaded.model, loaded.tokenizer, rows, settings, RunFolder(out, settings, "bench"), None
    )
    trainer.add_callback(Clock())
    started = time.perf_counter()
    trainer.train()
    timed = stamps[-1] - stamps[0] if len(stamps) > 1 else stamps[-1] - started
    return {
        "seconds_per_step": timed / max(1, len(stamps) - 1),
        "peak_memory_mb": peak_memory_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--model", default="bundled")
    # One thread by default: on a shared 2-core machine, more torch threads than free
    # cores make every step wait for a descheduled thread.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: this loss only
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as out:
            result = one_loss(args.one, args.pairs, args.steps, args.model, Path(out), args.threads)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as scratch:
        pairs = args.pairs
        if pairs is None:
            pairs = Path(scratch) / "pairs.jsonl"
            print(f"{make_pairs(pairs)} pairs from the corruption recipes")
        rows = []
        for loss in LOSSES:
            command = [sys.executable, __file__, "--one", loss, "--pairs", str(pairs)]
            command += ["--steps", str(args.steps), "--model", args.model]
            command += ["--threads", str(args.threads)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"{loss} failed:\n{done.stderr[-3000:]}")
            rows.append((loss, json.loads(done.stdout.strip().splitlines()[-1])))
    sft = [r for name, r in rows if name == "sft"]
    base_step = sum(r["seconds_per_step"] for r in sft) / len(sft)
    base_memory = sum(r["peak_memory_mb"] for r in sft) / len(sft)
    print(
        f"\nmodel {args.model}, {args.steps} steps each (first untimed), batch 1, LoRA r=16, "
        f"{args.threads} thread(s)"
    )
    print(f"{'loss':<9} {'s/step':>8} {'× sft':>7} {'peak MB':>9} {'× sft':>7}")
    for name, r in rows:
        print(
            f"{name:<9} {r['seconds_per_step']:>8.2f} {r['seconds_per_step'] / base_step:>7.2f} "
            f"{r['peak_memory_mb']:>9.0f} {r['peak_memory_mb'] / base_memory:>7.2f}"
        )


if __name__ == "__main__":
    main()
