"""``langlock serve``: an OpenAI-compatible proxy that guards every answer of an upstream
server (vLLM, TGI, Ollama, llama.cpp, a hosted API).

Request and response shapes are the upstream's, so an unmodified OpenAI client works. What
the guard did travels in ``x-langlock-*`` headers and a ``langlock`` field (in the last
chunk of a stream). A request may override the settings with an extra body field,
``"langlock": {"lang": "uk", "strategy": "block"}``.

Imports fastapi, httpx and prometheus_client: install ``langlock[serve]``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as prometheus_text

from langlock.guarding.bias import ban_bias, merged_bias, vocabulary
from langlock.guarding.core import (
    STRATEGIES,
    AsyncGuard,
    Attempt,
    GuardConfig,
    GuardResult,
    corrected,
    retry_options,
    user_text,
)
from langlock.guarding.frames import Message, frame_conversation
from langlock.guarding.stream import STREAM_MODES, StreamCheck
from langlock.policy import Policy, policy_for
from langlock.text.check import check

log = logging.getLogger("langlock.serve")
UpstreamHelp = Literal["auto", "bias", "off"]
_SETTINGS = ("lang", "preset", "strategy", "attempts", "stream_mode", "frame")
#: Sampling fields the guard varies between attempts; everything else goes upstream as sent.
_VARIED = ("temperature", "seed")


@dataclass(frozen=True)
class ProxySettings:
    """What a request is guarded by (server defaults, overridable per request)."""

    lang: str = "ru"
    preset: str = "standard"
    strategy: str = "regenerate"
    attempts: int = 3
    stream_mode: str = "buffer"
    frame: bool = True

    def overridden(self, extra: Any) -> ProxySettings:
        """These settings with a request's ``langlock`` field applied (checked)."""
        if extra is None:
            return self
        if not isinstance(extra, dict) or set(extra) - set(_SETTINGS):
            raise ClientError(f"'langlock' must be an object with keys among {_SETTINGS}")
        settings = replace(self, **extra)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ClientError(f"unknown strategy {self.strategy!r}; one of {STRATEGIES}")
        if self.stream_mode not in STREAM_MODES:
            raise ClientError(f"unknown stream_mode {self.stream_mode!r}; one of {STREAM_MODES}")
        if not isinstance(self.attempts, int) or not 1 <= self.attempts <= 10:
            raise ClientError("attempts must be an integer from 1 to 10")
        try:
            policy_for(self.lang, self.preset)
        except ValueError as exc:
            raise ClientError(str(exc)) from None


@dataclass(frozen=True)
class ProxyConfig:
    upstream: str
    settings: ProxySettings = field(default_factory=ProxySettings)
    #: Clients must send ``Authorization: Bearer <api_key>`` when set.
    api_key: str | None = None
    #: Sent upstream; when unset, the client's own Authorization header is forwarded.
    upstream_api_key: str | None = None
    timeout: float = 120.0
    #: ``auto``/``bias``: ban forbidden-script tokens through ``logit_bias`` (needs
    #: ``upstream_vocab``, the served model's GGUF or tokenizer.json); ``off``: check only.
    upstream_help: UpstreamHelp = "auto"
    upstream_vocab: str | None = None


class ClientError(ValueError):
    """A bad request: 400 in OpenAI's error shape."""


class UpstreamError(RuntimeError):
    """The upstream failed: ``status`` is what the client gets (502, 504, or the upstream's
    own 4xx for a request it refused)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def error_body(message: str, kind: str, code: str | int | None = None) -> dict[str, Any]:
    """OpenAI's error shape.

    >>> error_body("no", "invalid_request_error")["error"]["type"]
    'invalid_request_error'
    """
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Metrics:
    """Prometheus counters for ``/metrics`` (one registry per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "langlock_requests", "Guarded requests", ["endpoint", "verdict"], registry=self.registry
        )
        self.generations = Counter(
            "langlock_upstream_generations", "Upstream generations", registry=self.registry
        )
        self.findings = Counter(
            "langlock_findings",
            "Major findings in upstream answers",
            ["kind"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "langlock_upstream_errors", "Failed upstream calls", ["status"], registry=self.registry
        )
        self.disconnects = Counter(
            "langlock_client_disconnects", "Streams the client left", registry=self.registry
        )
        self.added = Histogram(
            "langlock_added_latency_seconds",
            "Latency the guard added: retries, or text held until checked",
            ["endpoint"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )

    def record(self, endpoint: str, result: GuardResult, added: float | None = None) -> None:
        """Count a finished request; ``added`` overrides the guard's own latency cost (a
        stream's is the time text was held, not retries)."""
        self.requests.labels(endpoint, result.verdict).inc()
        self.generations.inc(result.generations)
        for attempt in result.attempts:
            for f in attempt.findings:
                if f.major:
                    self.findings.labels(f.kind).inc()
        self.added.labels(endpoint).observe(result.added_seconds if added is None else added)


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


def sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def create_app(config: ProxyConfig) -> FastAPI:
    """The proxy as an ASGI app (``uvicorn`` runs it; tests can too)."""
    config.settings.validate()
    app = FastAPI(title="langlock proxy", docs_url=None, redoc_url=None)
    upstream = Upstream(config)
    upstream.ban(policy_for(config.settings.lang, config.settings.preset))  # built before serving
    metrics = Metrics()
    app.state.metrics = metrics
    app.state.upstream = upstream

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        guarded = config.api_key and request.url.path.startswith("/v1/")
        if guarded and request.headers.get("authorization") != f"Bearer {config.api_key}":
            message = "missing or wrong API key"
            body = error_body(message, "invalid_request_error", "invalid_api_key")
            return JSONResponse(body, status_code=401)
        return await call_next(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "upstream": upstream.base}

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(prometheus_text(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        try:
            response = await upstream.client.get("models", headers=upstream.headers(request))
        except httpx.HTTPError as exc:
            return _upstream_failure(UpstreamError(502, f"upstream unreachable: {exc}"), metrics)
        return Response(
            response.content,
            status_code=response.status_code,
            media_type=response.headers.get("content-type", "application/json"),
        )

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await _handle(request, "chat")

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await _handle(request, "completions")

    async def _handle(request: Request, endpoint: str) -> Response:
        started = time.perf_counter()
        try:
            body = await _read_body(request)
            settings = config.settings.overridden(body.pop("langlock", None))
            if body.get("n") not in (None, 1):
                raise ClientError("langlock guards one choice per request: use n=1")
            if endpoint == "chat":
                messages = body.get("messages")
                if not isinstance(messages, list) or not messages:
                    raise ClientError("'messages' must be a non-empty list")
            elif not isinstance(body.get("prompt"), str):
                raise ClientError("'prompt' must be a string (one prompt per request)")
        except ClientError as exc:
            return JSONResponse(error_body(str(exc), "invalid_request_error"), status_code=400)
        headers = upstream.headers(request)
        ban = upstream.ban(policy_for(settings.lang, settings.preset))
        if ban:
            body["logit_bias"] = merged_bias(body.get("logit_bias"), ban)
        exchange = Exchange(endpoint, body, settings, headers, upstream, metrics, started)
        try:
            if body.get("stream"):
                return await exchange.stream()
            return await exchange.complete()
        except UpstreamError as exc:
            return _upstream_failure(exc, metrics)

    return app


def _upstream_failure(exc: UpstreamError, metrics: Metrics) -> JSONResponse:
    metrics.upstream_errors.labels(str(exc.status)).inc()
    log.warning(json.dumps({"event": "upstream_error", "status": exc.status, "error": str(exc)}))
    if exc.status < 500 and isinstance(exc.body, dict) and "error" in exc.body:
        return JSONResponse(exc.body, status_code=exc.status)  # the upstream's own refusal
    return JSONResponse(error_body(str(exc), "upstream_error", exc.status), status_code=exc.status)


async def _read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClientError(f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ClientError("the request body must be a JSON object")
    return body


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

    def guard_config(self) -> GuardConfig:
        s = self.settings
        # Text completions have no system turn to frame or correct, and no chat to ask for
        # a sentence rewrite: only certain fixes and fresh samples help there.
        chat = self.endpoint == "chat"
        strategy: Any = s.strategy
        return GuardConfig(
            self.policy,
            strategy,
            s.attempts,
            frame=s.frame and chat,
            rewrite_sentences=2 if chat else 0,
        )

    def payload(self, messages: list[Message] | None, options: dict[str, Any]) -> dict[str, Any]:
        body = {**self.body, **options}
        if self.endpoint == "chat" and messages is not None:
            body["messages"] = messages
        return body

    # ----------------------------------------------------------------- non-streaming

    async def complete(self) -> Response:
        replies: list[dict[str, Any]] = []

        async def generate(messages: list[Message], **options: Any) -> str:
            # A text completion keeps its prompt: the guard's corrective system turn has no
            # place in it, so a retry is a fresh sample (another seed, cooler).
            chat = self.endpoint == "chat"
            payload = self.payload(messages if chat else None, options) | {"stream": False}
            reply = await self.upstream.post(self.path, payload, self.headers)
            replies.append(reply)
            return _reply_text(reply, self.endpoint)

        options = {k: self.body[k] for k in _VARIED if k in self.body}
        question = self.body["messages"] if self.endpoint == "chat" else self.body["prompt"]
        result = await AsyncGuard(generate, self.guard_config())(question, **options)
        self.metrics.record(self.endpoint, result)
        self._log(result)
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

    def _log(self, result: GuardResult, **extra: Any) -> None:
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

    # ----------------------------------------------------------------- streaming

    async def stream(self) -> Response:
        options = {k: self.body[k] for k in _VARIED if k in self.body}
        question: list[Message] = (
            self.body["messages"]
            if self.endpoint == "chat"
            else [{"role": "user", "content": self.body["prompt"]}]
        )
        config = self.guard_config()
        request = (
            frame_conversation(question, config.frame_data) if config.frame else list(question)
        )
        first = await self.upstream.open_stream(
            self.path, self.payload(request, options), self.headers
        )
        events = GuardedStream(self, config, question, request, options, first)
        return StreamingResponse(
            events.run(),
            media_type="text/event-stream",
            headers={"x-langlock-stream-mode": self._mode(), "cache-control": "no-cache"},
        )

    def _mode(self) -> str:
        # block promises that no failing text reaches the client: only buffer keeps it
        return "buffer" if self.settings.strategy == "block" else self.settings.stream_mode


@dataclass
class GuardedStream:
    """The SSE stream a client gets: upstream chunks, released as they pass the check."""

    exchange: Exchange
    config: GuardConfig
    question: list[Message]
    request: list[Message]
    options: dict[str, Any]
    response: httpx.Response
    template: dict[str, Any] | None = None
    holds: list[float] = field(default_factory=list)

    async def run(self) -> AsyncIterator[bytes]:
        ex = self.exchange
        annotate = self.config.strategy == "annotate"
        check_stream = StreamCheck(
            self.config.policy,
            ex._mode(),  # type: ignore[arg-type]
            user_text(self.question),
            repair=self.config.strategy == "repair",
        )
        seen: list[Any] = []  # the blocking finding of each cut attempt
        attempts, finish, failure = 1, "stop", None
        first_content: float | None = None
        first_release: float | None = None
        try:
            while True:
                arrivals: list[tuple[int, float]] = []
                try:
                    async for event in sse_events(self.response):
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
                    await self.response.aclose()
                if check_stream.stopped is None:
                    break
                seen.append(check_stream.stopped)
                if attempts >= self.config.attempts:
                    failure = check_stream.stopped
                    break
                attempts += 1
                self.response = await self._continuation(check_stream, attempts)
            result = self._result(check_stream, seen, failed=failure is not None)
            ex.metrics.record(ex.endpoint, result, added=self._mean_hold())
            delay = first_release - first_content if first_release and first_content else 0.0
            ex._log(result, first_token_delay=round(delay, 4), mean_hold=self._mean_hold())
            if failure is not None and self.config.strategy == "block":
                message = f"langlock blocked the rest of the answer ({failure.kind})"
                yield sse(
                    error_body(message, "language_policy_violation", "langlock_blocked")
                    | {"langlock": result.to_dict()}
                )
                return
            final = self._chunk(None, finish)
            final["langlock"] = result.to_dict() | {
                "sha256": hashlib.sha256(
                    check_stream.text[: check_stream.released].encode()
                ).hexdigest(),
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

    async def _continuation(self, check_stream: StreamCheck, attempt: int) -> httpx.Response:
        """A new upstream stream that goes on from the released text, told what went wrong."""
        ex = self.exchange
        stopped = check_stream.stopped
        frame = self.config.frame_data
        report = check(check_stream.text, policy=self.config.policy)
        report.findings = [stopped] if stopped else report.findings
        check_stream.resume()
        options = retry_options(self.options, attempt, self.config.cool_down)
        if ex.endpoint == "chat":
            messages = corrected(self.request, report, frame)
            if check_stream.text:
                ask = frame.continuation.format(answer=check_stream.text)
                messages = [*messages, {"role": "user", "content": ask}]
            payload = ex.payload(messages, options)
        else:
            payload = ex.payload(None, options) | {"prompt": ex.body["prompt"] + check_stream.text}
        return await ex.upstream.open_stream(ex.path, payload, ex.headers)

    def _result(self, check_stream: StreamCheck, cuts: list[Any], failed: bool) -> GuardResult:
        """What happened: one record per upstream stream (a cut one carries the finding it
        was cut at) and the text sent."""
        text = check_stream.text[: check_stream.released]
        report = check(text, prompt=user_text(self.question), policy=self.config.policy)
        records = [Attempt("stream-cut", "", False, (f,), 0.0) for f in cuts]
        if failed:
            verdict: Any = "blocked" if self.config.strategy == "block" else "failed"
        else:
            records.append(Attempt("stream", text, report.ok, tuple(report.findings), 0.0))
            verdict = "failed" if not report.ok else ("regenerated" if cuts else "pass")
        return GuardResult(text, verdict, tuple(records), tuple(report.findings))

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
