"""``langlock serve``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from langlock.cli.options import LangOpt, PresetName, PresetOpt, die, stderr_console
from langlock.guarding.core import GuardStrategy
from langlock.guarding.proxy.settings import (
    ClientError,
    ProxyConfig,
    ProxySettings,
    UpstreamHelp,
)
from langlock.guarding.stream import StreamMode


def _vocab_path(given: Path | None) -> str | None:
    if given is None:
        return None
    if str(given) == "bundled":
        from langlock.decoding.bundled import bundled_model_path

        return str(bundled_model_path())
    return str(given)


def serve_command(
    upstream: Annotated[
        str, typer.Option("--upstream", help="The OpenAI-compatible server to guard (…/v1).")
    ],
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    strategy: Annotated[
        GuardStrategy, typer.Option("--strategy", help="What to do with a failing answer.")
    ] = GuardStrategy.regenerate,
    attempts: Annotated[
        int, typer.Option("--attempts", min=1, max=10, help="Answers per request, at most.")
    ] = 3,
    stream_mode: Annotated[
        StreamMode,
        typer.Option(
            "--stream-mode",
            help="buffer: hold each sentence until checked; cut: "
            "release word by word, cut at the first finding.",
        ),
    ] = StreamMode.buffer,
    frame: Annotated[
        bool, typer.Option("--frame/--no-frame", help="Frame chat requests in the language.")
    ] = True,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="LANGLOCK_API_KEY",
            help="Key clients must send (Authorization: Bearer …). It never goes upstream.",
            show_default=False,
        ),
    ] = None,
    upstream_api_key: Annotated[
        str | None,
        typer.Option(
            "--upstream-api-key",
            envvar="LANGLOCK_UPSTREAM_API_KEY",
            help="Key sent upstream. Unset: the client's own Authorization is forwarded, "
            "but only when no --api-key is set; with one, nothing is.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=1.0,
            help="Seconds one upstream attempt may take in all, from connecting to its last "
            "byte (not per read): past it, 504, or an error event in a stream.",
        ),
    ] = 300.0,
    max_body_mb: Annotated[
        float,
        typer.Option("--max-body-mb", min=0.001, help="Largest request body, MB (413 beyond)."),
    ] = 4.0,
    upstream_vocab: Annotated[
        Path | None,
        typer.Option(
            "--upstream-vocab",
            help="The served model's GGUF or tokenizer.json ('bundled': the bundled Gemma): "
            "lets the proxy ban foreign-script tokens upstream through logit_bias.",
            show_default=False,
        ),
    ] = None,
    upstream_help: Annotated[
        UpstreamHelp,
        typer.Option(
            "--upstream-help",
            help="auto: ban foreign-script tokens through logit_bias when --upstream-vocab is "
            "given; bias: require it; off: check and regenerate only.",
        ),
    ] = UpstreamHelp.auto,
) -> None:
    """An OpenAI-compatible proxy that frames, checks and regenerates every answer of an
    upstream server, streaming included."""
    try:
        import uvicorn

        from langlock.guarding.proxy.app import create_app
    except ImportError as exc:
        raise die(f"serve needs the 'serve' extra (pip install 'langlock[serve]'): {exc}") from None
    settings = ProxySettings(
        lang=lang,
        preset=preset,
        strategy=strategy,
        attempts=attempts,
        stream_mode=stream_mode,
        frame=frame,
    )
    config = ProxyConfig(
        upstream=upstream,
        settings=settings,
        api_key=api_key,
        upstream_api_key=upstream_api_key,
        timeout=timeout,
        max_body_bytes=int(max_body_mb * (1 << 20)),
        upstream_help=upstream_help,
        upstream_vocab=_vocab_path(upstream_vocab),
    )
    try:
        application = create_app(config)
    except (ClientError, OSError, ValueError) as exc:
        raise die(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        stderr_console().print(
            f"warning: serving on {host} without --api-key: anyone who reaches it can use it",
            style="yellow",
        )
    uvicorn.run(application, host=host, port=port, log_level="warning")
