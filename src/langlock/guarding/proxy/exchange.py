"""One client request: its settings, the guard's configuration for it, its upstream calls,
and its reply when it does not stream (``streaming`` has the streamed one)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse, Response

from langlock.guarding.core import AsyncGuard, GuardConfig, GuardResult, GuardStrategy
from langlock.guarding.frames import Message
from langlock.guarding.proxy.metrics import Metrics
from langlock.guarding.proxy.settings import ProxySettings, error_body
from langlock.guarding.proxy.upstream import Upstream, UpstreamError
from langlock.guarding.stream import StreamMode
from langlock.policy import Policy, policy_for

log = logging.getLogger("langlock.serve")
#: Sampling fields the guard varies between attempts; everything else goes upstream as sent.
_VARIED = ("temperature", "seed")


@dataclass
class Exchange:
    """One client request: its upstream calls, the guard, and the reply."""

    endpoint: str
    body: dict[str, Any]
    settings: ProxySettings
    headers: dict[str, str]
    upstream: Upstream
    metrics: Metrics
    started: float
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def policy(self) -> Policy:
        return policy_for(self.settings.lang, self.settings.preset)

    @property
    def path(self) -> str:
        return "chat/completions" if self.endpoint == "chat" else "completions"

    @property
    def options(self) -> dict[str, Any]:
        """The request's sampling options the guard varies between attempts."""
        return {k: self.body[k] for k in _VARIED if k in self.body}

    @property
    def stream_mode(self) -> StreamMode:
        # block promises that no failing text reaches the client: only buffer keeps it
        if self.settings.strategy == "block":
            return StreamMode.buffer
        return StreamMode(self.settings.stream_mode)

    def guard_config(self) -> GuardConfig:
        s = self.settings
        # Text completions have no system turn to frame or correct, and no chat to ask for
        # a sentence rewrite: only certain fixes and fresh samples help there.
        chat = self.endpoint == "chat"
        return GuardConfig(
            policy=self.policy,
            strategy=GuardStrategy(s.strategy),
            attempts=s.attempts,
            frame=s.frame and chat,
            rewrite_sentences=2 if chat else 0,
        )

    def payload(self, messages: list[Message] | None, options: dict[str, Any]) -> dict[str, Any]:
        body = {**self.body, **options}
        if self.endpoint == "chat" and messages is not None:
            body["messages"] = messages
        return body

    async def complete(self) -> Response:
        """The guarded reply of a request that does not stream."""
        replies: list[dict[str, Any]] = []

        async def generate(messages: list[Message], **options: Any) -> str:
            # A text completion keeps its prompt: the guard's corrective system turn has no
            # place in it, so a retry is a fresh sample (another seed, cooler).
            chat = self.endpoint == "chat"
            payload = self.payload(messages if chat else None, options) | {"stream": False}
            reply = await self.upstream.post(self.path, payload, self.headers)
            replies.append(reply)
            return _reply_text(reply, self.endpoint)

        question = self.body["messages"] if self.endpoint == "chat" else self.body["prompt"]
        result = await AsyncGuard(generate, self.guard_config())(question, **self.options)
        self.metrics.record(self.endpoint, result)
        self.log_request(result)
        headers = _guard_headers(result)
        if result.verdict == "blocked":
            body = error_body(
                "langlock blocked the answer: every attempt left the target language ("
                + ", ".join(sorted({f.kind for f in result.findings if f.major}))
                + ")",
                "language_policy_violation",
                "langlock_blocked",
            )
            return JSONResponse(
                body | {"langlock": result.to_dict()}, status_code=422, headers=headers
            )
        reply = dict(replies[-1])
        choice = dict(reply["choices"][0])
        if self.endpoint == "chat":
            choice["message"] = {**choice.get("message", {}), "content": result.text}
        else:
            choice["text"] = result.text
        reply["choices"] = [choice]
        reply["usage"] = _summed_usage(replies)
        reply["langlock"] = result.to_dict()
        return JSONResponse(reply, headers=headers)

    def log_request(self, result: GuardResult, **extra: Any) -> None:
        """One JSON log line for a finished request."""
        log.info(
            json.dumps(
                {
                    "event": "request",
                    "id": self.id,
                    "endpoint": self.endpoint,
                    "stream": bool(self.body.get("stream")),
                    "strategy": self.settings.strategy,
                    "verdict": result.verdict,
                    "attempts": result.generations,
                    "kinds": _major_kinds(result),
                    "seconds": round(time.perf_counter() - self.started, 4),
                    "added_seconds": round(result.added_seconds, 4),
                    **extra,
                }
            )
        )


def _reply_text(reply: Any, endpoint: str) -> str:
    try:
        choice = reply["choices"][0]
        text = choice["message"]["content"] if endpoint == "chat" else choice["text"]
    except (KeyError, IndexError, TypeError):
        raise UpstreamError(502, f"upstream sent no completion: {str(reply)[:200]}") from None
    return str(text or "")


def _summed_usage(replies: list[dict[str, Any]]) -> dict[str, int]:
    usage: dict[str, int] = {}
    for reply in replies:
        for key, value in (reply.get("usage") or {}).items():
            if isinstance(value, int):
                usage[key] = usage.get(key, 0) + value
    return usage


def _major_kinds(result: GuardResult) -> list[str]:
    """Kinds of the major findings in any attempt."""
    return sorted({f.kind for a in result.attempts for f in a.findings if f.major})


def _guard_headers(result: GuardResult) -> dict[str, str]:
    return {
        "x-langlock-attempts": str(result.generations),
        "x-langlock-verdict": result.verdict,
        "x-langlock-findings": ",".join(_major_kinds(result)),
        "x-langlock-added-seconds": f"{result.added_seconds:.4f}",
    }
