"""The upstream server, through one pooled async client: plain replies, streams of
server-sent events, and its failures as ``UpstreamError``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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
        if self.key:
            return {"Authorization": f"Bearer {self.key}"}
        forwarded = request.headers.get("authorization")
        return {"Authorization": forwarded} if forwarded else {}

    async def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        try:
            response = await self.client.post(path, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise UpstreamError(504, f"upstream timed out: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream unreachable: {type(exc).__name__}: {exc}") from None
        return _json_reply(response)

    async def open_stream(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        request = self.client.build_request("POST", path, json=body, headers=headers)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise UpstreamError(504, f"upstream timed out: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            await response.aread()
            await response.aclose()
            _json_reply(response)  # raises with the upstream's status and message
        return response


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


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON events of an OpenAI server-sent-event stream, up to ``[DONE]``."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            raise UpstreamError(502, f"upstream sent a malformed event: {data[:120]!r}") from None
        if not isinstance(event, dict):
            raise UpstreamError(502, f"upstream sent a malformed event: {data[:120]!r}")
        if event.get("error"):
            raise UpstreamError(502, f"upstream error mid-stream: {event['error']}")
        yield event
