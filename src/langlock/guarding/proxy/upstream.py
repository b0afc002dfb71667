"""The upstream server, through one pooled async client: plain replies, streams of
server-sent events, and its failures as ``UpstreamError``.

Every upstream attempt has one deadline, ``--timeout`` seconds from its start to its last
byte: an upstream that trickles a byte now and then cannot hold a client longer (httpx's own
timeouts are per read). A stream that is not server-sent events, holds an event that is not
JSON, or ends before ``[DONE]`` is an error, never an empty answer that passes the check.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from langlock.guarding.bias import ban_bias, vocabulary
from langlock.guarding.proxy.settings import ClientError, ProxyConfig
from langlock.policy import Policy


class UpstreamError(RuntimeError):
    """The upstream failed: ``status`` is what the client gets (502, 504, or the upstream's
    own 4xx for a request it refused)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Upstream:
    """The upstream server, through one pooled async client."""

    def __init__(self, config: ProxyConfig) -> None:
        self.base = config.upstream.rstrip("/") + "/"
        self.key = config.upstream_api_key
        #: When the proxy checks a key of its own, the client's header is that key: kept here.
        self.forward_client_key = not config.api_key
        self.timeout = config.timeout
        self.bias: dict[tuple[str, str], dict[str, float]] = {}
        self.vocab = None
        if config.upstream_help != "off" and config.upstream_vocab:
            self.vocab = vocabulary(config.upstream_vocab)
        elif config.upstream_help == "bias":
            raise ClientError("--upstream-help bias needs --upstream-vocab (the served model)")
        timeout = httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0))
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self.client = httpx.AsyncClient(base_url=self.base, timeout=timeout, limits=limits)

    def ban(self, policy: Policy) -> dict[str, float] | None:
        """The ``logit_bias`` banning forbidden-script tokens, built once per policy."""
        if self.vocab is None:
            return None
        key = (policy.lang, policy.preset.name)
        if key not in self.bias:
            self.bias[key] = ban_bias(self.vocab, policy)
        return self.bias[key]

    def headers(self, request: Request) -> dict[str, str]:
        """The upstream's Authorization: ``--upstream-api-key``; else the client's own header,
        but only when the proxy checks no key (then that header is the proxy's key)."""
        if self.key:
            return {"Authorization": f"Bearer {self.key}"}
        forwarded = request.headers.get("authorization")
        return {"Authorization": forwarded} if forwarded and self.forward_client_key else {}

    def deadline(self) -> float:
        """The end of an attempt starting now, on the event loop's clock."""
        return asyncio.get_running_loop().time() + self.timeout

    def timed_out(self) -> UpstreamError:
        return UpstreamError(504, f"upstream took longer than {self.timeout:g} s (--timeout)")

    async def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        """A GET passed through (the model list), within one deadline."""
        try:
            async with asyncio.timeout_at(self.deadline()):
                return await self.client.get(path, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise self.timed_out() from None
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream unreachable: {type(exc).__name__}: {exc}") from None

    async def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        try:
            async with asyncio.timeout_at(self.deadline()):
                response = await self.client.post(path, json=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise self.timed_out() from None
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream unreachable: {type(exc).__name__}: {exc}") from None
        return _json_reply(response)

    async def open_stream(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> UpstreamStream:
        """A streamed attempt, its headers received: an upstream that refuses, fails, or
        answers with anything but server-sent events raises ``UpstreamError`` here."""
        deadline = self.deadline()
        request = self.client.build_request("POST", path, json=body, headers=headers)
        try:
            async with asyncio.timeout_at(deadline):
                response = await self.client.send(request, stream=True)
                if response.status_code != 200 or not _is_sse(response):
                    await response.aread()
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise self.timed_out() from None
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            _json_reply(response)  # raises with the upstream's status and message
        if not _is_sse(response):
            kind = response.headers.get("content-type") or "no content type"
            raise UpstreamError(
                502,
                f"upstream answered a stream request with {kind}, not server-sent events: "
                f"{response.text[:200]!r}",
            )
        return UpstreamStream(response=response, deadline=deadline, upstream=self)


def _is_sse(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return kind.split(";")[0].strip().lower() == "text/event-stream"


def _json_reply(response: httpx.Response) -> Any:
    try:
        data = response.json()
    except ValueError:
        raise UpstreamError(
            502, f"upstream sent no JSON (HTTP {response.status_code}): {response.text[:200]!r}"
        ) from None
    if response.status_code >= 500:
        raise UpstreamError(502, f"upstream failed with HTTP {response.status_code}", data)
    if response.status_code != 200:
        raise UpstreamError(
            response.status_code, f"upstream refused: HTTP {response.status_code}", data
        )
    return data


@dataclass
class UpstreamStream:
    """One streamed upstream attempt: its response, and the deadline its last byte must
    meet."""

    response: httpx.Response
    deadline: float
    upstream: Upstream

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The JSON events of an OpenAI server-sent-event stream, up to ``[DONE]``. Past the
        deadline, on a line that is not SSE, an event that is not a JSON object, or an end
        before ``[DONE]`` (and before any ``finish_reason``): ``UpstreamError``."""
        lines = self.response.aiter_lines()
        finished = False
        while True:
            try:
                async with asyncio.timeout_at(self.deadline):
                    line = await anext(lines)
            except StopAsyncIteration:
                break
            except (TimeoutError, httpx.TimeoutException):
                raise self.upstream.timed_out() from None
            data = sse_data(line)
            if data is None:
                continue
            if data.strip() == "[DONE]":
                return
            event = _event(data)
            finished = finished or any(c.get("finish_reason") for c in event.get("choices") or [])
            yield event
        if not finished:
            raise UpstreamError(502, "upstream stream ended before [DONE]: the answer is cut")

    async def aclose(self) -> None:
        await self.response.aclose()


def sse_data(line: str) -> str | None:
    """The data of one line of server-sent events; None for a line that carries none (blank,
    a comment, ``event:``, ``id:``, ``retry:``). Anything else is not SSE: ``UpstreamError``.

    >>> sse_data('data: {"a": 1}'), sse_data(": keep-alive"), sse_data("event: delta")
    ('{"a": 1}', None, None)
    >>> try:
    ...     sse_data("<html>")
    ... except UpstreamError as exc:
    ...     print(exc.status, exc)
    502 upstream sent a stream that is not server-sent events: '<html>'
    """
    if not line or line.startswith(":"):
        return None
    name, _, value = line.partition(":")
    if name == "data":
        return value[1:] if value.startswith(" ") else value
    if name in ("event", "id", "retry"):
        return None
    raise UpstreamError(
        502, f"upstream sent a stream that is not server-sent events: {line[:120]!r}"
    )


def _event(data: str) -> dict[str, Any]:
    """One event's JSON object, its shape checked: ``choices`` is a list of objects."""
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        raise UpstreamError(502, f"upstream sent a malformed event: {data[:120]!r}") from None
    if not isinstance(event, dict):
        raise UpstreamError(502, f"upstream sent a malformed event: {data[:120]!r}")
    if event.get("error"):
        raise UpstreamError(502, f"upstream error mid-stream: {event['error']}")
    choices = event.get("choices")
    if choices is not None and not (
        isinstance(choices, list) and all(isinstance(c, dict) for c in choices)
    ):
        raise UpstreamError(502, f"upstream sent a malformed event: {data[:120]!r}")
    return event
