"""A guarded stream: upstream chunks released to the client as they pass the check, with the
guard's plan deciding what happens after a cut (``StreamedAnswers``: go on from the text
already sent, told what went wrong)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.responses import StreamingResponse

from langlock.guarding.core import Call, GuardConfig, GuardResult, plan, user_text
from langlock.guarding.frames import Message
from langlock.guarding.proxy.exchange import Exchange
from langlock.guarding.proxy.settings import error_body
from langlock.guarding.proxy.upstream import UpstreamError, UpstreamStream
from langlock.guarding.stream import StreamCheck, Streamed, StreamedAnswers

log = logging.getLogger("langlock.serve")


async def stream_reply(exchange: Exchange) -> StreamingResponse:
    """The guarded stream for a request. The first upstream stream opens before the reply
    starts, so an upstream that refuses or cannot be reached is an HTTP error, not an event."""
    question: list[Message] = (
        exchange.body["messages"]
        if exchange.endpoint == "chat"
        else [{"role": "user", "content": exchange.body["prompt"]}]
    )
    config = exchange.guard_config()
    prompt = user_text(question)
    steps = plan(config, question, exchange.options, StreamedAnswers(config, prompt))
    call = next(steps)
    first = await exchange.upstream.open_stream(
        exchange.path, _stream_payload(exchange, call), exchange.headers
    )
    events = GuardedStream(exchange=exchange, config=config, prompt=prompt, steps=steps)
    return StreamingResponse(
        events.run(first),
        media_type="text/event-stream",
        headers={"x-langlock-stream-mode": exchange.stream_mode, "cache-control": "no-cache"},
    )


def _stream_payload(exchange: Exchange, call: Call) -> dict[str, Any]:
    """The upstream body for a call: a chat's messages, or a text completion's prompt
    followed by what the client already has."""
    if exchange.endpoint == "chat":
        return exchange.payload(call.messages, call.options)
    prompt = exchange.body["prompt"] + call.continues
    return exchange.payload(None, call.options) | {"prompt": prompt}


def sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@dataclass
class GuardedStream:
    """The SSE stream a client gets: upstream chunks, released as they pass the check."""

    exchange: Exchange
    config: GuardConfig
    #: What the user wrote (its words are allowed in the answer).
    prompt: str
    #: The guard's plan for this request, its first call already made.
    steps: Generator[Call, Streamed, GuardResult]
    template: dict[str, Any] | None = None
    holds: list[float] = field(default_factory=list)

    async def run(self, stream: UpstreamStream) -> AsyncIterator[bytes]:
        ex = self.exchange
        annotate = self.config.strategy == "annotate"
        check_stream = StreamCheck(
            policy=self.config.policy,
            mode=ex.stream_mode,
            prompt=self.prompt,
            repair=self.config.strategy == "repair",
        )
        finish = "stop"
        first_content: float | None = None
        first_release: float | None = None
        try:
            while True:
                arrivals: list[tuple[int, float]] = []
                try:
                    async for event in stream.events():
                        self.template = self.template or event
                        choice = (event.get("choices") or [{}])[0]
                        text = _delta_text(choice, ex.endpoint)
                        if text:
                            now = time.perf_counter()
                            first_content = first_content or now
                            arrivals.append((len(check_stream.text) + len(text), now))
                            out = check_stream.accept(text) if annotate else check_stream.push(text)
                            if out:
                                first_release = first_release or time.perf_counter()
                                self._hold(arrivals, check_stream.released)
                                yield sse(self._chunk(out))
                        finish = choice.get("finish_reason") or finish
                        if check_stream.stopped is not None:
                            break
                    if check_stream.stopped is None and not annotate:
                        out = check_stream.finish()
                        if out:
                            first_release = first_release or time.perf_counter()
                            self._hold(arrivals, check_stream.released)
                            yield sse(self._chunk(out))
                finally:
                    await stream.aclose()
                sent = Streamed(check_stream.text[: check_stream.released], check_stream.stopped)
                if sent.cut is not None:
                    check_stream.resume()  # the held text is dropped; a continuation follows
                try:
                    call = self.steps.send(sent)
                except StopIteration as done:
                    result: GuardResult = done.value
                    break
                stream = await ex.upstream.open_stream(
                    ex.path, _stream_payload(ex, call), ex.headers
                )
            ex.metrics.record(ex.endpoint, result, added=self._mean_hold())
            delay = first_release - first_content if first_release and first_content else 0.0
            ex.log_request(result, first_token_delay=round(delay, 4), mean_hold=self._mean_hold())
            if result.verdict == "blocked" and sent.cut is not None:
                message = f"langlock blocked the rest of the answer ({sent.cut.kind})"
                yield sse(
                    error_body(message, "language_policy_violation", "langlock_blocked")
                    | {"langlock": result.to_dict()}
                )
                return
            final = self._chunk(None, finish)
            final["langlock"] = result.to_dict() | {
                "sha256": hashlib.sha256(sent.text.encode()).hexdigest(),
                "first_token_delay": round(delay, 4),
                "mean_hold": self._mean_hold(),
            }
            yield sse(final)
            yield b"data: [DONE]\n\n"
        except UpstreamError as exc:
            ex.metrics.upstream_errors.labels(str(exc.status)).inc()
            log.warning(json.dumps({"event": "upstream_error", "id": ex.id, "error": str(exc)}))
            yield sse(error_body(str(exc), "upstream_error", exc.status))
        except httpx.HTTPError as exc:  # the upstream died mid-stream
            ex.metrics.upstream_errors.labels("502").inc()
            message = f"upstream failed mid-stream: {type(exc).__name__}: {exc}"
            log.warning(json.dumps({"event": "upstream_error", "id": ex.id, "error": message}))
            yield sse(error_body(message, "upstream_error", 502))
        except asyncio.CancelledError:
            ex.metrics.disconnects.inc()
            log.info(json.dumps({"event": "client_disconnected", "id": ex.id}))
            raise
        except Exception as exc:  # a stream already begun can only end with an error event
            log.exception(json.dumps({"event": "internal_error", "id": ex.id}))
            yield sse(error_body(f"langlock failed: {type(exc).__name__}", "server_error", 500))

    def _hold(self, arrivals: list[tuple[int, float]], released: int) -> None:
        """Record how long each released piece of text was held before it went out."""
        now = time.perf_counter()
        while arrivals and arrivals[0][0] <= released:
            self.holds.append(now - arrivals.pop(0)[1])

    def _mean_hold(self) -> float:
        return round(sum(self.holds) / len(self.holds), 4) if self.holds else 0.0

    def _chunk(self, text: str | None, finish: str | None = None) -> dict[str, Any]:
        base = self.template or {}
        chat = self.exchange.endpoint == "chat"
        chunk = {
            "id": base.get("id", f"langlock-{self.exchange.id}"),
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": base.get("created", int(time.time())),
            "model": base.get("model", ""),
        }
        if chat:
            delta = {"content": text} if text is not None else {}
            choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text or "", "finish_reason": finish}
        return chunk | {"choices": [choice]}


def _delta_text(choice: dict[str, Any], endpoint: str) -> str:
    if endpoint == "chat":
        return str((choice.get("delta") or {}).get("content") or "")
    return str(choice.get("text") or "")
