"""The eval report in headless Chromium: it renders, and the DOM holds the charts."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from langlock.eval.report import (
    write_report,
)
from tests.eval.report_data import STRATEGIES
from tests.eval.report_html import Page

# ----------------------------------------------------------------------------- Chromium


def chromium() -> str:
    path = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    path = path or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium)")
    return path


def chromium_args(binary: str, profile: Path) -> list[str]:
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def screenshot(html_path: Path, png: Path, height: int = 2400, timeout: float = 90) -> None:
    """Render ``html_path`` at 1280 px wide into ``png`` (the viewport, not the full page)."""
    binary = chromium()
    args = chromium_args(binary, png.parent / "profile-shot")
    args += [f"--screenshot={png}", f"--window-size=1280,{height}", html_path.as_uri()]
    subprocess.run(args, check=True, capture_output=True, timeout=timeout)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(
    tmp_path: Path, summary: dict, gens: list[dict]
) -> None:
    binary = chromium()
    html_path = write_report(tmp_path / "report.html", summary, gens)
    png = tmp_path / "report.png"
    screenshot(html_path, png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2400)
    assert len(data) > 20_000, f"screenshot is only {len(data)} bytes: a blank page?"

    args = [*chromium_args(binary, tmp_path / "profile-dom"), "--dump-dom", html_path.as_uri()]
    done = subprocess.run(args, check=True, capture_output=True, timeout=90)
    dom = Page(done.stdout.decode("utf-8"))
    charts = {e["attrs"].get("data-chart") for e in dom.find("svg", "chart")}
    assert charts == {"pass_rate", "degenerate_rate", "kinds"}
    assert dom.tags["circle"] >= 2 * len(STRATEGIES) and dom.tags["rect"] > 20
    assert dom.tags["script"] == 0
    assert len(dom.find("article", "example")) == 6
