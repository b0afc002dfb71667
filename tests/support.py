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
