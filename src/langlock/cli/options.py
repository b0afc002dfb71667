"""What every command shares: options, the policy from them, errors, stdout and stderr."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from langlock.policy import PresetName

if TYPE_CHECKING:
    from rich.console import Console

    from langlock.policy import Policy


def stdout_binary() -> BinaryIO:
    sys.stdout.flush()
    return sys.stdout.buffer


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def die(message: str) -> typer.Exit:
    """Print an error to stderr and return the Exit(2) to raise."""
    stderr_console().print(f"langlock: {message}", style="bold red", markup=False)
    return typer.Exit(2)


def build_policy(lang: str, preset: str, allow: list[str] | None, config: Path | None) -> Policy:
    try:
        from langlock.policy import Policy

        return Policy.from_options(lang=lang, preset=preset, allow=allow or (), config=config)
    except (ValueError, OSError) as exc:
        raise die(str(exc)) from None


class Terminated(KeyboardInterrupt):
    """SIGTERM (what ``timeout``, systemd and Kubernetes send), raised like Ctrl-C so the
    same clean-up runs; the command exits 143 (128 + SIGTERM)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread instead of killing
    the process at once (which leaves temporary files and orphaned workers behind)."""
    import signal

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def broken_pipe_exits() -> Iterator[None]:
    """Stop quietly when the reader of stdout goes away (``langlock check … | head``)."""
    try:
        yield
    except BrokenPipeError:
        # Keep Python from complaining again when it flushes stdout at exit.
        with suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None


def input_paths(files: list[str] | None) -> list[str]:
    if files:
        return files
    if sys.stdin is None or sys.stdin.closed:
        raise die("no input: stdin is closed; give FILES")
    if sys.stdin.isatty():
        raise die("no input: give FILES or '-' (or pipe text into stdin)")
    return ["-"]


# -- shared options --------------------------------------------------------------------------

FilesArg = Annotated[
    list[str] | None,
    typer.Argument(help="Text or JSONL files; '-' or nothing reads stdin.", show_default=False),
]
LangOpt = Annotated[str, typer.Option("--lang", help="Target language code.")]
PresetOpt = Annotated[PresetName, typer.Option("--preset", help="How strict to be.")]
AllowOpt = Annotated[
    list[str] | None,
    typer.Option("--allow", help="Name or term that is never a finding (repeatable)."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML file with lang, preset, allow.")
]
PromptOpt = Annotated[
    str | None, typer.Option("--prompt", help="The prompt (for plain text, or JSONL default).")
]
JsonlOpt = Annotated[bool, typer.Option("--jsonl", help="Read every input (stdin too) as JSONL.")]
TextFieldOpt = Annotated[str, typer.Option("--text-field", help="JSONL field with the answer.")]
PromptFieldOpt = Annotated[str, typer.Option("--prompt-field", help="JSONL field with the prompt.")]
IdFieldOpt = Annotated[str, typer.Option("--id-field", help="JSONL field with the record id.")]
MaxBytesOpt = Annotated[
    int,
    typer.Option("--max-bytes", min=1, help="Larger records (a JSONL line, a file) are errors."),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Hide clean records and the stderr summary.")
]


def step_progress(label: str, console: Console) -> Any:
    """A progress bar for counted work: label, bar, done/total, elapsed, ETA and the task's
    description (what is being done now), on ``console``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    )
