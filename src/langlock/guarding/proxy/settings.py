"""What a proxied request is guarded by: server-wide settings a request may override, the
proxy's configuration, and the client-error shape. Light: no server library is imported."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from langlock.guarding.core import GuardStrategy
from langlock.guarding.stream import StreamMode
from langlock.policy import PresetName, policy_for

_SETTINGS = ("lang", "preset", "strategy", "attempts", "stream_mode", "frame")
_STRATEGIES = tuple(s.value for s in GuardStrategy)
_STREAM_MODES = tuple(m.value for m in StreamMode)


class UpstreamHelp(StrEnum):
    """What the proxy asks of the upstream beyond the request: ``auto``/``bias`` ban
    forbidden-script tokens through ``logit_bias`` (``bias`` requires the served model's
    vocabulary), ``off`` only checks and regenerates."""

    auto = "auto"
    bias = "bias"
    off = "off"


class ClientError(ValueError):
    """A bad request: 400 in OpenAI's error shape."""


def error_body(message: str, kind: str, code: str | int | None = None) -> dict[str, Any]:
    """OpenAI's error shape.

    >>> error_body("no", "invalid_request_error")["error"]["type"]
    'invalid_request_error'
    """
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@dataclass(frozen=True)
class ProxySettings:
    """What a request is guarded by (server defaults, overridable per request)."""

    lang: str = "ru"
    preset: PresetName | str = PresetName.standard
    strategy: GuardStrategy | str = GuardStrategy.regenerate
    attempts: int = 3
    stream_mode: StreamMode | str = StreamMode.buffer
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
        if self.strategy not in _STRATEGIES:
            raise ClientError(f"unknown strategy {self.strategy!r}; one of {_STRATEGIES}")
        if self.stream_mode not in _STREAM_MODES:
            raise ClientError(f"unknown stream_mode {self.stream_mode!r}; one of {_STREAM_MODES}")
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
    #: Sent upstream. When unset, the client's own Authorization header is forwarded, but
    #: only when ``api_key`` is unset too: a key the proxy checks never goes upstream.
    upstream_api_key: str | None = None
    #: Seconds one upstream attempt may take in all, connecting to the last byte.
    timeout: float = 300.0
    #: The largest request body taken (413 beyond).
    max_body_bytes: int = 4 << 20
    #: ``auto``/``bias``: ban forbidden-script tokens through ``logit_bias`` (needs
    #: ``upstream_vocab``, the served model's GGUF or tokenizer.json); ``off``: check only.
    upstream_help: UpstreamHelp = UpstreamHelp.auto
    upstream_vocab: str | None = None
