"""``langlock clean``: parse the options, plan the run (``langlock.clean.pipeline``), run it
under a progress bar, print what it did."""

from __future__ import annotations

import os
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from langlock.clean.cleaner import CleanMode
from langlock.clean.engines import EngineName
from langlock.clean.readers import TextUnit
from langlock.clean.records import AUTO
from langlock.cli.options import (
    AllowOpt,
    ConfigOpt,
    LangOpt,
    PresetName,
    PresetOpt,
    Terminated,
    die,
    sigterm_interrupts,
    stderr_console,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from langlock.clean.judging import Stats
    from langlock.clean.pipeline import CleanRun

#: ``--engine``'s choices: the engines, less the in-process baseline of tests and benchmarks.
EngineChoice = StrEnum(  # type: ignore[misc]
    "EngineChoice", {e.name: e.value for e in EngineName if e is not EngineName.inline}
)


def clean(
    source: Annotated[
        Path,
        typer.Argument(
            help="JSONL(.gz/.zst), Parquet, CSV, text, or a datasets folder (save_to_disk)."
        ),
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Kept records.")] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="Rejected records.")] = None,
    stats: Annotated[Path | None, typer.Option("--stats", help="Stats JSON.")] = None,
    mode: Annotated[CleanMode, typer.Option("--mode")] = CleanMode.drop,
    record_format: Annotated[
        str,
        typer.Option("--format", help="auto, text, alpaca, chat, sharegpt or preference."),
    ] = AUTO,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Chat roles to check (default assistant).")
    ] = None,
    text_field: Annotated[str | None, typer.Option("--text-field")] = None,
    text_unit: Annotated[
        str, typer.Option("--text-unit", help="For text input: a record per 'line' or 'file'.")
    ] = TextUnit.line.value,
    output_format: Annotated[
        str | None, typer.Option("--output-format", help="jsonl, parquet, csv, hf or text.")
    ] = None,
    engine: Annotated[EngineChoice, typer.Option("--engine")] = EngineChoice.local,  # type: ignore[valid-type]
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes (default: all cores).")
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="An existing Ray cluster.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N records.")] = None,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    allow: AllowOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Keep confused examples out of a fine-tuning corpus (or repair them, or tag them)."""
    from langlock.clean.engines import CleanerSpec
    from langlock.clean.pipeline import plan_run

    spec = CleanerSpec(
        lang=lang,
        preset=preset.value,
        allow=tuple(allow or ()),
        mode=mode,
        fmt=record_format,
        roles=tuple(role or ("assistant",)),
        text_field=text_field,
        config=str(config) if config else None,
    )
    try:
        run = plan_run(
            source,
            kept=output,
            rejects=rejects,
            stats=stats,
            spec=spec,
            engine=EngineName(engine),
            workers=workers or os.cpu_count() or 1,
            ray_address=ray_address,
            limit=limit,
            output_kind=output_format,
            text_unit=text_unit,
        )
    except (ValueError, OSError) as exc:
        raise die(str(exc)) from None
    console = stderr_console()
    started = time.perf_counter()
    try:
        with sigterm_interrupts():
            result = _clean_with_progress(run, console)
    except Terminated:
        console.print("terminated: no output was written", style="yellow")
        raise typer.Exit(143) from None
    except KeyboardInterrupt:
        console.print("interrupted: no output was written", style="yellow")
        raise typer.Exit(130) from None
    except (OSError, ValueError) as exc:
        raise die(f"{source}: {exc}") from None
    _print_summary(console, run, result, time.perf_counter() - started)


def _print_summary(console: Console, run: CleanRun, result: Stats, seconds: float) -> None:
    megabytes = run.source.stat().st_size / 1e6 if run.source.is_file() else 0.0
    summary = result.to_dict()
    console.print(
        f"{summary['records_in']:,} in = {summary['kept']:,} kept "
        f"({summary['repaired']:,} repaired) + {summary['rejected']:,} rejected "
        f"({summary['rejected_unreadable']:,} unreadable, {summary['rejected_format']:,} "
        f"bad format, {summary['rejected_findings']:,} with findings)"
        + (f" + {summary['blank']:,} blank" if summary["blank"] else "")
        + ("" if summary["balanced"] else "  [red]DOES NOT ADD UP[/]")
    )
    if summary["findings_by_kind"]:
        kinds = ", ".join(f"{k} {v:,}" for k, v in summary["findings_by_kind"].items())
        console.print(f"findings: {kinds}")
    for example in summary["examples"][:3]:
        console.print(f"  e.g. {example['source']}: {example['reason']}", markup=False)
    rate = summary["records_in"] / seconds if seconds else 0.0
    console.print(
        f"{seconds:.1f} s, {rate:,.0f} records/s"
        + (f", {megabytes / seconds:.2f} MB/s" if megabytes else "")
    )
    paths = run.paths
    console.print(f"kept: {paths.kept}\nrejects: {paths.rejects}\nstats: {paths.stats}")


def _clean_with_progress(run: CleanRun, console: Console) -> Stats:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed or 0:,.0f} records/s")

    with Progress(
        TextColumn("[bold]clean[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=run.expected_records)
        return run.run(lambda done: progress.advance(task, done))
