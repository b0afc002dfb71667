"""What the guarding proxy costs in latency, against a real llama.cpp server (llama-cpp-python's)
running the bundled Gemma 3 270M.

Baseline: the same streaming requests sent straight to the upstream, in the same process,
interleaved with the proxied ones. Printed:

* sequential streams: time to first token and total time, direct vs through the proxy in
  ``buffer`` and ``cut`` mode, and with the upstream ban (``logit_bias``); ratios to direct;
* 50 concurrent streams through the proxy: p50/p95 of the latency the proxy added, as it
  measured it (the first token's delay, and the mean time text was held before release).

    python benchmarks/proxy_latency.py [--requests 6] [--concurrent 50] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import free_port, start_llama_server, stop, wait_until_up

PROMPTS = [
    "Почему небо голубое?",
    "Расскажи коротко о Москве.",
    "Explain recursion. Answer in Russian.",
    "Как в Python узнать длину списка?",
    "Напиши короткое стихотворение о зиме.",
    "Что такое фотосинтез?",
]


def start_proxy(upstream: str, log: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "langlock",
            "serve",
            "--upstream",
            upstream,
            "--port",
            str(port),
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log, seconds=120)
    return process, f"http://127.0.0.1:{port}/v1"


async def stream(base: str, prompt: str, seed: int, max_tokens: int) -> dict[str, Any]:
    body = {
        "model": "gemma3-270m",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0.7,
        "seed": seed,
        "stream": True,
    }
    started = time.perf_counter()
    first, final = None, None
    async with (
        httpx.AsyncClient(timeout=900) as http,
        http.stream("POST", f"{base}/chat/completions", json=body) as response,
    ):
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            event = json.loads(line[6:])
            choice = (event.get("choices") or [{}])[0]
            if (choice.get("delta") or {}).get("content") and first is None:
                first = time.perf_counter() - started
            final = event.get("langlock") or final
    total = time.perf_counter() - started
    return {"ttft": first if first is not None else total, "total": total, "final": final}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="langlock-bench-"))
    server, upstream = start_llama_server(logs / "server.log")
    proxies = {
        "buffer": start_proxy(upstream, logs / "buffer.log", "--no-frame"),
        "cut": start_proxy(upstream, logs / "cut.log", "--no-frame", "--stream-mode", "cut"),
        "buffer+ban": start_proxy(
            upstream, logs / "ban.log", "--no-frame", "--upstream-vocab", "bundled"
        ),
    }
    try:
        routes = {"direct": upstream, **{k: v[1] for k, v in proxies.items()}}
        timings: dict[str, list[dict[str, Any]]] = {k: [] for k in routes}
        for i in range(args.requests):  # interleaved, so drift hits every route alike
            prompt = PROMPTS[i % len(PROMPTS)]
            for name, base in routes.items():
                timings[name].append(asyncio.run(stream(base, prompt, i, args.max_tokens)))
        base_ttft = statistics.median(t["ttft"] for t in timings["direct"])
        base_total = statistics.median(t["total"] for t in timings["direct"])
        print(f"sequential streams: {args.requests} per route, max_tokens {args.max_tokens}")
        print(
            f"{'route':<12} {'ttft s':>8} {'x direct':>9} {'total s':>8} {'x direct':>9} "
            f"{'answers/request':>16}"
        )
        for name, rows in timings.items():
            ttft = statistics.median(t["ttft"] for t in rows)
            total = statistics.median(t["total"] for t in rows)
            tries = statistics.mean(
                1 + sum(a["purpose"] == "stream-cut" for a in t["final"]["attempts"])
                if t["final"]
                else 1
                for t in rows
            )
            print(
                f"{name:<12} {ttft:8.3f} {ttft / base_ttft:9.2f} {total:8.3f} "
                f"{total / base_total:9.2f} {tries:16.2f}"
            )

        async def many(base: str) -> list[dict[str, Any]]:
            return await asyncio.gather(
                *(
                    stream(base, PROMPTS[i % len(PROMPTS)], 100 + i, args.max_tokens // 4)
                    for i in range(args.concurrent)
                )
            )

        for mode in ("buffer", "cut"):
            results = asyncio.run(many(routes[mode]))
            finals = [r["final"] for r in results if r["final"]]
            delays = [f["first_token_delay"] for f in finals]
            holds = [f["mean_hold"] for f in finals]
            print(
                f"{args.concurrent} concurrent streams, {mode}: {len(finals)} complete; added "
                f"latency p50/p95: first token {pct(delays, 0.5):.3f}/{pct(delays, 0.95):.3f} s, "
                f"mean hold {pct(holds, 0.5):.3f}/{pct(holds, 0.95):.3f} s"
            )
    finally:
        for process, _ in proxies.values():
            stop(process)
        stop(server)


if __name__ == "__main__":
    main()
