"""The guarding proxy (a real ``langlock serve`` process) against upstreams that fail: dead,
slow, slower than the deadline, trickling a byte at a time, erroring, sending garbage, and
50 concurrent streams against a fast one.

Each case sends a plain and a streamed chat request and prints: what the client got (HTTP
status; for a stream also whether it ended in an error event or a verdict), how long it
took, and whether any unchecked text reached the client: text that fails the check, or a
verdict of success for an answer the upstream never finished. That column must read
``none`` in every row. The upstream is ``tests.support.FaultyUpstream`` (standard library),
so this runs anywhere, in about a minute.

    python benchmarks/proxy_faults.py [--timeout 3] [--concurrent 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import FaultyUpstream, free_port, stop, wait_until_up

from langlock.text.check import check

QUESTION = "Почему небо голубое?"
CHAT = {"model": "fake", "messages": [{"role": "user", "content": QUESTION}]}
#: Cases: (name, upstream mode, its delay, which requests it breaks). The garbage modes
#: break streams only: a plain request to them gets a good answer, as it should.
CASES = [
    ("fast", "ok", 0.0, ()),
    ("slow (1 s)", "slow", 1.0, ()),
    ("slower than --timeout", "slow", 30.0, ("plain", "stream")),
    ("trickling 1 B / 0.5 s", "trickle", 0.5, ("plain", "stream")),
    ("HTTP 500", "error", 0.0, ("plain", "stream")),
    ("JSON for a stream", "json", 0.0, ("stream",)),
    ("text, not SSE", "not-sse", 0.0, ("stream",)),
    ("event not JSON", "bad-json", 0.0, ("stream",)),
    ("cut before [DONE]", "cut", 0.0, ("stream",)),
]


def start_proxy(upstream: str, log: Path, timeout: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "langlock", "serve", "--upstream", upstream]
    command += ["--port", str(port), "--timeout", str(timeout)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log, seconds=120)
    return process, f"http://127.0.0.1:{port}"


async def plain(http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        response = await http.post(f"{base}/v1/chat/completions", json=CHAT)
    except httpx.HTTPError as exc:
        return {"status": type(exc).__name__, "seconds": time.perf_counter() - started}
    body = response.json()
    text, verdict = "", None
    if response.status_code == 200:
        text = body["choices"][0]["message"]["content"] or ""
        verdict = body.get("langlock", {}).get("verdict")
    status = f"200, verdict {verdict}" if response.status_code == 200 else str(response.status_code)
    return {
        "status": status,
        "seconds": time.perf_counter() - started,
        "text": text,
        "verdict": verdict,
    }


async def streamed(http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    started = time.perf_counter()
    text, verdict, error = "", None, None
    try:
        async with http.stream(
            "POST", f"{base}/v1/chat/completions", json={**CHAT, "stream": True}
        ) as response:
            if response.status_code != 200:
                await response.aread()
                return {
                    "status": str(response.status_code),
                    "seconds": time.perf_counter() - started,
                }
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                event = json.loads(line[6:])
                if "error" in event:
                    error = event["error"]["type"]
                for choice in event.get("choices") or []:
                    text += (choice.get("delta") or {}).get("content") or ""
                verdict = (event.get("langlock") or {}).get("verdict") or verdict
    except httpx.HTTPError as exc:
        return {"status": type(exc).__name__, "seconds": time.perf_counter() - started}
    status = f"200 + error event ({error})" if error else f"200, verdict {verdict}"
    return {
        "status": status,
        "seconds": time.perf_counter() - started,
        "text": text,
        "verdict": verdict,
    }


def unchecked(result: dict[str, Any], good_upstream: bool) -> str:
    """What reached the client unchecked: text failing the check, or a success verdict for
    an answer the upstream never finished ("none" when nothing did)."""
    problems = []
    if result.get("text") and not check(result["text"], prompt=QUESTION).ok:
        problems.append("failing text")
    if not good_upstream and result.get("verdict") not in (None, "blocked"):
        problems.append(f"verdict {result['verdict']} for a broken answer")
    return ", ".join(problems) or "none"


def row(case: str, kind: str, result: dict[str, Any], good: bool) -> str:
    return (
        f"{case:<24} {kind:<8} {result['status']:<38} {result['seconds']:>7.2f} s   "
        f"{unchecked(result, good)}"
    )


async def concurrent(base: str, count: int) -> list[str]:
    async with httpx.AsyncClient(timeout=120) as http:
        started = time.perf_counter()
        results = await asyncio.gather(*(streamed(http, base) for _ in range(count)))
        seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    bad = [unchecked(r, True) for r in results if unchecked(r, True) != "none"]
    shown = ", ".join(f"{n}× {s}" for s, n in statuses.items())
    slowest = max(r["seconds"] for r in results)
    return [
        f"{f'{count} concurrent':<24} {'stream':<8} {shown:<38} {seconds:>7.2f} s   "
        f"{'none' if not bad else f'{len(bad)} streams: {bad[0]}'}",
        f"{'':<24} {'':<8} {'(slowest stream)':<38} {slowest:>7.2f} s",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=3.0, help="the proxy's --timeout")
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="langlock-faults-"))
    print(f"proxy --timeout {args.timeout:g} s; upstream: tests.support.FaultyUpstream")
    print(f"{'case':<24} {'request':<8} {'client got':<38} {'time':>9}   unchecked text")
    with FaultyUpstream() as upstream:
        proxy, base = start_proxy(upstream.url, folder / "proxy.log", args.timeout)
        dead_port = free_port()  # nothing listens there
        dead, dead_base = start_proxy(
            f"http://127.0.0.1:{dead_port}/v1", folder / "dead.log", args.timeout
        )
        try:
            async with httpx.AsyncClient(timeout=120) as http:
                for kind, call in (("plain", plain), ("stream", streamed)):
                    print(row("dead", kind, await call(http, dead_base), False))
                for case, mode, delay, breaks in CASES:
                    upstream.mode, upstream.delay = mode, delay
                    for kind, call in (("plain", plain), ("stream", streamed)):
                        print(row(case, kind, await call(http, base), kind not in breaks))
            upstream.mode = "ok"
            for line in await concurrent(base, args.concurrent):
                print(line)
        finally:
            stop(proxy)
            stop(dead)


if __name__ == "__main__":
    asyncio.run(main())
