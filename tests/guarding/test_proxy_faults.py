"""``langlock serve`` against a faulty upstream and a hostile client: a broken stream is an
error and never a pass, one deadline per upstream attempt, every error in OpenAI's shape
with a 4xx for bad input, a body cap, and keys that stay where they belong.

The proxy runs under a real uvicorn server; the upstream is a real HTTP server of the
standard library that misbehaves on demand (``tests.support.FaultyUpstream``)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support import ANSWER, FaultyUpstream, proxy_in_thread

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

CHAT = {"model": "fake", "messages": [{"role": "user", "content": "Почему небо голубое?"}]}


def streamed(base: str, body: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    """A streamed request's status, events, text and final verdict (None if none came)."""
    events: list[dict[str, Any]] = []
    with httpx.stream(
        "POST", f"{base}/v1/chat/completions", json={**body, "stream": True}, timeout=timeout
    ) as response:
        if response.status_code != 200:
            response.read()
            return {"status": response.status_code, "body": response.json(), "events": []}
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[6:]))
    text = "".join(
        (e["choices"][0]["delta"].get("content") or "") for e in events if e.get("choices")
    )
    final = next((e["langlock"] for e in events if "langlock" in e), None)
    errors = [e["error"] for e in events if "error" in e]
    return {"status": 200, "events": events, "text": text, "final": final, "errors": errors}


def test_a_good_upstream_still_streams_and_passes() -> None:
    with FaultyUpstream("ok") as upstream, proxy_in_thread(upstream.url) as base:
        result = streamed(base, CHAT)
        assert result["status"] == 200 and not result["errors"]
        assert result["text"].strip() == ANSWER and result["final"]["verdict"] == "pass"
        plain = httpx.post(f"{base}/v1/chat/completions", json=CHAT, timeout=30)
        assert plain.status_code == 200 and plain.json()["langlock"]["verdict"] == "pass"


@pytest.mark.parametrize("mode", ["json", "not-sse", "bad-json", "cut"])
def test_a_broken_stream_is_an_error_never_a_pass(mode: str) -> None:
    with FaultyUpstream(mode) as upstream, proxy_in_thread(upstream.url) as base:
        result = streamed(base, CHAT)
    if result["status"] != 200:  # refused before the stream began
        assert result["status"] == 502
        assert result["body"]["error"]["type"] == "upstream_error"
    else:  # found once streaming had begun: an error event, and no verdict
        assert result["errors"] and result["errors"][0]["type"] == "upstream_error"
        assert result["final"] is None
    if mode == "json":
        assert result["status"] == 502 and "not server-sent events" in str(result["body"])


def test_a_trickling_upstream_meets_one_deadline_per_attempt() -> None:
    """One byte every 0.3 s never trips a per-read timeout; the total deadline (1.5 s) ends
    it, plain (504) or streamed (an error event), whatever the number of attempts."""
    with (
        FaultyUpstream("trickle", delay=0.3) as upstream,
        proxy_in_thread(upstream.url, timeout=1.5) as base,
    ):
        started = time.monotonic()
        plain = httpx.post(f"{base}/v1/chat/completions", json=CHAT, timeout=20)
        assert plain.status_code == 504 and "--timeout" in plain.json()["error"]["message"]
        assert time.monotonic() - started < 6
        started = time.monotonic()
        result = streamed(base, CHAT, timeout=20)
        assert result["status"] == 200 and result["errors"] and result["final"] is None
        assert "--timeout" in result["errors"][0]["message"]
        assert time.monotonic() - started < 6


def test_bad_bodies_get_openai_errors_with_a_4xx() -> None:
    with (
        FaultyUpstream("ok") as upstream,
        proxy_in_thread(upstream.url, max_body_bytes=100_000) as base,
    ):
        url = f"{base}/v1/chat/completions"

        def post(content: bytes) -> httpx.Response:
            headers = {"content-type": "application/json"}
            return httpx.post(url, content=content, headers=headers, timeout=30)

        cases = {
            "messages of numbers": (b'{"messages": [1, 2]}', 400),
            "a message without a role": (b'{"messages": [{"content": "x"}]}', 400),
            "content of a number": (b'{"messages": [{"role": "user", "content": 5}]}', 400),
            "nested past the parser": (
                b'{"messages": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
                400,
            ),
            "nested deep": (b'{"messages": [], "x": ' + b"[" * 200 + b"]" * 200 + b"}", 400),
            "not JSON": (b"{nope", 400),
            "not an object": (b"[1]", 400),
            "too large": (b'{"messages": "' + b"x" * 200_000 + b'"}', 413),
        }
        for case, (content, status) in cases.items():
            response = post(content)
            assert response.status_code == status, (case, response.text[:200])
            error = response.json()["error"]
            assert error["message"] and error["type"] == "invalid_request_error", case
        missing = httpx.get(f"{base}/v1/nothing-here", timeout=30)
        assert missing.status_code == 404 and missing.json()["error"]["message"]
        assert httpx.post(url, json=CHAT, timeout=30).status_code == 200  # still serving


def test_the_default_body_cap_is_a_few_megabytes() -> None:
    with FaultyUpstream("ok") as upstream, proxy_in_thread(upstream.url) as base:
        big = {**CHAT, "metadata": {"x": "я" * (3 << 20)}}  # 6 MB of UTF-8
        response = httpx.post(f"{base}/v1/chat/completions", json=big, timeout=30)
        assert response.status_code == 413 and response.json()["error"]["message"]
        small = {**CHAT, "metadata": {"x": "я" * (1 << 20)}}  # 2 MB: taken
        assert httpx.post(f"{base}/v1/chat/completions", json=small, timeout=30).status_code == 200


def test_a_key_the_proxy_checks_never_goes_upstream() -> None:
    url = "/v1/chat/completions"
    own = {"Authorization": "Bearer s3cret"}
    with FaultyUpstream("ok") as upstream:
        with proxy_in_thread(upstream.url, api_key="s3cret") as base:
            assert httpx.post(base + url, json=CHAT, headers=own, timeout=30).status_code == 200
            assert httpx.get(f"{base}/v1/models", headers=own, timeout=30).status_code == 200
            streamed_ok = httpx.post(
                base + url, json={**CHAT, "stream": True}, headers=own, timeout=30
            )
            assert streamed_ok.status_code == 200
        assert upstream.authorizations and set(upstream.authorizations) == {None}
        upstream.authorizations.clear()
        with proxy_in_thread(upstream.url, api_key="s3cret", upstream_api_key="up") as base:
            httpx.post(base + url, json=CHAT, headers=own, timeout=30)
        assert set(upstream.authorizations) == {"Bearer up"}
        upstream.authorizations.clear()
        with proxy_in_thread(upstream.url) as base:  # no key of its own: the client's goes on
            httpx.post(base + url, json=CHAT, headers={"Authorization": "Bearer c"}, timeout=30)
        assert set(upstream.authorizations) == {"Bearer c"}


def test_healthz_shows_the_upstream_only_with_the_key() -> None:
    with FaultyUpstream("ok") as upstream:
        with proxy_in_thread(upstream.url, api_key="s3cret") as base:
            anyone = httpx.get(f"{base}/healthz", timeout=30).json()
            assert anyone == {"status": "ok"}
            wrong = {"Authorization": "Bearer guess"}
            assert "upstream" not in httpx.get(f"{base}/healthz", headers=wrong).json()
            right = {"Authorization": "Bearer s3cret"}
            assert (
                httpx.get(f"{base}/healthz", headers=right)
                .json()["upstream"]
                .startswith(upstream.url)
            )
        with proxy_in_thread(upstream.url) as base:  # no key: nobody holds one
            assert httpx.get(f"{base}/healthz", timeout=30).json() == {"status": "ok"}


def test_serve_help_states_the_deadline_the_body_cap_and_the_key_rule() -> None:
    from typer.testing import CliRunner

    from langlock.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.output.split())
    assert "not per read" in text and "--max-body-mb" in text
    assert "only when no --api-key is set" in text
