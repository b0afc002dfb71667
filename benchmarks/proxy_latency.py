"""What the guarding proxy costs in latency, against a real llama.cpp server (llama-cpp-python's)
running the bundled Gemma 3 270M.

Baseline: the same streaming requests sent straight to the upstream, in the same process,
interleaved with the proxied ones. Printed:

* sequential streams: time to first token and total time, direct vs through the proxy with
  one answer per request (``buffer``, ``cut``, and ``buffer`` with the upstream ban through
  ``logit_bias``: what holding text and the ban cost), and with the guard's default three
  answers (what regeneration costs on this model); ratios to direct;
* 50 concurrent streams, direct and through the proxy (one answer per request): p50/p95 of
  time to first token and total time as the clients saw them, and the difference.

Direct requests carry the Russian frame themselves; the proxy adds the same frame, so both
ask the upstream the same thing. A stream the guard cuts ends early, so the latency figures
count only requests whose answer passed on every route (the number is printed).

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import free_port, start_llama_server, stop, wait_until_up

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


def messages(prompt: str, framed: bool) -> list[dict[str, str]]:
    from langlock.guarding.frames import frame_conversation, load_frame

    question = [{"role": "user", "content": prompt}]
    return frame_conversation(question, load_frame("ru")) if framed else question


async def stream(
    base: str, prompt: str, seed: int, max_tokens: int, framed: bool
) -> dict[str, Any]:
    body = {
        "model": "gemma3-270m",
        "messages": messages(prompt, framed),
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
    once = ("--attempts", "1")
    proxies = {
        "buffer": start_proxy(upstream, logs / "buffer.log", *once),
        "cut": start_proxy(upstream, logs / "cut.log", *once, "--stream-mode", "cut"),
        "buffer+ban": start_proxy(upstream, logs / "ban.log", *once, "--upstream-vocab", "bundled"),
        "guard (3)": start_proxy(upstream, logs / "guard.log"),
    }
    try:
        routes = {"direct": upstream, **{k: v[1] for k, v in proxies.items()}}
        timings: dict[str, list[dict[str, Any]]] = {k: [] for k in routes}
        for i in range(args.requests):  # interleaved, so drift hits every route alike
            prompt = PROMPTS[i % len(PROMPTS)]
            for name, base in routes.items():
                framed = name == "direct"
                timings[name].append(asyncio.run(stream(base, prompt, i, args.max_tokens, framed)))
        passed = [
            i
            for i in range(args.requests)
            if all(
                t[i]["final"] and t[i]["final"]["verdict"] == "pass"
                for name, t in timings.items()
                if name != "direct"
            )
        ]
        if not passed:
            verdicts = {
                name: [t["final"]["verdict"] if t["final"] else "none" for t in every]
                for name, every in timings.items()
                if name != "direct"
            }
            raise SystemExit(
                f"no request passed on every route, so no latency can be compared: {verdicts}"
                " (more --requests, or prompts the model answers cleanly)"
            )
        base_ttft = statistics.median(timings["direct"][i]["ttft"] for i in passed)
        base_total = statistics.median(timings["direct"][i]["total"] for i in passed)
        print(
            f"sequential streams: {args.requests} per route, max_tokens {args.max_tokens}; "
            f"{len(passed)} passed on every route (medians over those)"
        )
        print(
            f"{'route':<12} {'ttft s':>8} {'x direct':>9} {'total s':>8} {'x direct':>9} "
            f"{'answers/request':>16}"
        )
        for name, every in timings.items():
            rows = [every[i] for i in passed]
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

        async def many(base: str, framed: bool) -> list[dict[str, Any]]:
            return await asyncio.gather(
                *(
                    stream(base, PROMPTS[i % len(PROMPTS)], 100 + i, args.max_tokens // 2, framed)
                    for i in range(args.concurrent)
                )
            )

        print(f"{args.concurrent} concurrent streams, max_tokens {args.max_tokens // 2}:")
        direct = asyncio.run(many(routes["direct"], True))
        for name in ("direct", "buffer", "cut"):
            results = direct if name == "direct" else asyncio.run(many(routes[name], False))
            cells = []
            for key in ("ttft", "total"):
                values = [r[key] for r in results]
                base = [r[key] for r in direct]
                p50, p95 = pct(values, 0.5), pct(values, 0.95)
                added = f" (+{p50 - pct(base, 0.5):.2f}/+{p95 - pct(base, 0.95):.2f})"
                cells.append(
                    f"{key} p50/p95 {p50:.2f}/{p95:.2f} s" + ("" if name == "direct" else added)
                )
            finals = [r["final"] for r in results if r["final"]]
            if finals:  # the proxy's own measure: time text was held, whatever the queue did
                delays = [f["first_token_delay"] for f in finals]
                holds = [f["mean_hold"] for f in finals]
                cells.append(
                    f"held: first token {pct(delays, 0.5):.3f}/{pct(delays, 0.95):.3f} s, "
                    f"mean {pct(holds, 0.5):.3f}/{pct(holds, 0.95):.3f} s"
                )
            print(f"  {name:<8} " + "; ".join(cells))
    finally:
        for process, _ in proxies.values():
            stop(process)
        stop(server)


if __name__ == "__main__":
    main()
