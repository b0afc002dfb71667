"""Helpers the tests and benchmarks share: free ports, real servers started and stopped,
a Ray cluster, files inside installed packages."""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def package_file(package: str, *parts: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 120
) -> None:
    """Wait for a server's ``url`` to answer 200; fail with its log if it dies or stalls."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-2000:])
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{url} did not come up in {seconds:.0f} s")


def start_llama_server(log: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A real llama.cpp server (llama-cpp-python's) running the bundled model."""
    pytest.importorskip("llama_cpp.server.app")
    from langlock.decoding.bundled import bundled_model_path

    port = port or free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path())),
            *("--port", str(port), "--host", "127.0.0.1", "--chat_format", "gemma"),
            *("--n_ctx", "2048", "--model_alias", "gemma3-270m"),
            # By default a new request cuts the stream in progress; concurrent clients queue.
            *("--interrupt_requests", "False"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # a pipe nobody reads fills up with llama.cpp's load log
    )
    url = f"http://127.0.0.1:{port}/v1"
    wait_until_up(f"{url}/models", process, log)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class RayHead:
    address: str
    #: The environment for a client: this one, with the cluster's token authentication.
    env: dict[str, str]
    #: The cluster's processes (daemons and workers), as ``psutil`` processes.
    processes: Callable[[], list[Any]]


@contextmanager
def ray_head(cpus: int) -> Iterator[RayHead]:
    """A running Ray cluster of one head node with ``cpus`` CPUs (``ray start --head``) on a
    free local port, with token authentication and a token of its own. Stopped by ending
    its processes only: ``ray stop`` would end every Ray on the machine."""
    import psutil

    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    before = set(psutil.pids())
    subprocess.run(
        [
            *(str(Path(sys.executable).with_name("ray")), "start", "--head", "--port", str(port)),
            *("--node-ip-address", "127.0.0.1", f"--num-cpus={cpus}"),
            *("--include-dashboard=false", "--disable-usage-stats"),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    daemons = [
        process
        for process in psutil.process_iter(["cmdline"])
        if process.pid not in before and "ray" in " ".join(process.info["cmdline"] or [])
    ]

    def processes() -> list[Any]:
        alive = [p for p in daemons if p.is_running()]
        return alive + [child for p in alive for child in p.children(recursive=True)]

    try:
        yield RayHead(f"127.0.0.1:{port}", env, processes)
    finally:
        remaining = processes()
        for process in remaining:
            process.terminate()
        _, alive = psutil.wait_procs(remaining, timeout=15)
        for process in alive:
            process.kill()
        # `ray start` points plain ray.init() calls on this machine at its cluster; left
        # naming a stopped one, they would fail to connect instead of starting a Ray.
        pointer = Path(os.environ.get("TMPDIR", "/tmp"), "ray", "ray_current_cluster")
        if pointer.is_file() and pointer.read_text().strip().endswith(f":{port}"):
            pointer.unlink()


# -- a faulty upstream ----------------------------------------------------------------------

#: What the fake upstream answers: Russian that passes the check.
ANSWER = "Небо голубое, потому что воздух сильнее рассеивает синий свет."


class FaultyUpstream:
    """A tiny OpenAI-compatible upstream (standard library only) that misbehaves on demand:
    the faults a real server shows only when it breaks. ``mode`` says how it answers:

    ``ok`` (a good answer, streamed as proper SSE), ``slow`` (good, after ``delay`` s),
    ``trickle`` (one byte every ``delay`` s, for ever), ``error`` (HTTP 500), ``json`` (a
    stream request answered with plain JSON), ``not-sse`` (a 200 "event stream" of text
    lines), ``bad-json`` (an event that is not JSON), ``cut`` (a stream that stops before
    ``[DONE]``). The Authorization header of every request is kept in ``authorizations``.
    """

    def __init__(self, mode: str = "ok", delay: float = 0.5) -> None:
        from http.server import ThreadingHTTPServer

        self.mode = mode
        self.delay = delay
        self.authorizations: list[str | None] = []

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default 5 refuses a burst of 50 clients

        self.server = Server(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FaultyUpstream:
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(upstream: FaultyUpstream) -> type:
    import json
    from http.server import BaseHTTPRequestHandler

    def chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
        event = {
            "id": "up-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"

    reply = {
        "id": "up-1",
        "object": "chat.completion",
        "created": 1,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            upstream.authorizations.append(self.headers.get("authorization"))
            self._send(200, "application/json", b'{"object": "list", "data": []}')

        def do_POST(self) -> None:
            upstream.authorizations.append(self.headers.get("authorization"))
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            stream, mode = bool(body.get("stream")), upstream.mode
            if mode == "slow":
                time.sleep(upstream.delay)
            if mode == "error":
                self._send(500, "application/json", b'{"error": {"message": "boom"}}')
            elif mode == "trickle":
                self._trickle("text/event-stream" if stream else "application/json")
            elif not stream or mode == "json":
                self._send(200, "application/json", json.dumps(reply).encode())
            elif mode == "not-sse":
                self._send(200, "text/event-stream", b"hello\nthis is not an event stream\n")
            elif mode == "bad-json":
                self._send(200, "text/event-stream", b"data: {not json\n\n")
            else:
                words = [w + " " for w in ANSWER.split()]
                events = [chunk({"role": "assistant"})] + [chunk({"content": w}) for w in words]
                if mode == "cut":
                    self._send(200, "text/event-stream", b"".join(events[:3]))
                else:
                    events += [chunk({}, "stop"), b"data: [DONE]\n\n"]
                    self._send(200, "text/event-stream", b"".join(events))

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _trickle(self, kind: str) -> None:
            """Headers at once, then one byte every ``delay`` seconds: never a read timeout."""
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", "1000000")
            self.end_headers()
            try:
                for _ in range(int(600 / upstream.delay)):
                    self.wfile.write(b":" if kind == "text/event-stream" else b" ")
                    self.wfile.flush()
                    time.sleep(upstream.delay)
            except OSError:  # the proxy gave up on us: as it should
                pass

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def proxy_in_thread(upstream: str, **config: Any) -> Iterator[str]:
    """``langlock serve``'s app under a real uvicorn server in a thread of this process (a
    subprocess per configuration would cost seconds each); its base URL."""
    import threading

    import uvicorn

    from langlock.guarding.proxy import ProxyConfig, create_app

    port = free_port()
    app = create_app(ProxyConfig(upstream=upstream, **config))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the proxy did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
