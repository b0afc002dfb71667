"""``langlock clean``."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from langlock.cli.options import (
    AllowOpt,
    ConfigOpt,
    LangOpt,
    PresetName,
    PresetOpt,
    build_policy,
    die,
    stderr_console,
)

if TYPE_CHECKING:
    from rich.text import Text


class CleanMode(StrEnum):
    drop = "drop"
    repair = "repair"
    tag = "tag"


class EngineName(StrEnum):
    local = "local"
    ray = "ray"


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
    ] = "auto",
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Chat roles to check (default assistant).")
    ] = None,
    text_field: Annotated[str | None, typer.Option("--text-field")] = None,
    text_unit: Annotated[
        str, typer.Option("--text-unit", help="For text input: a record per 'line' or 'file'.")
    ] = "line",
    output_format: Annotated[
        str | None, typer.Option("--output-format", help="jsonl, parquet, csv, hf or text.")
    ] = None,
    engine: Annotated[EngineName, typer.Option("--engine")] = EngineName.local,
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
    import time

    from langlock.clean.engines import CleanerSpec
    from langlock.clean.io import KINDS
    from langlock.clean.pipeline import CleanRun, Paths
    from langlock.clean.records import FORMATS

    if not source.exists():
        raise die(f"no such input: {source}")
    if record_format not in ("auto", *FORMATS):
        raise die(f"unknown format {record_format!r}; choose auto, {', '.join(FORMATS)}")
    if output_format is not None and output_format not in KINDS:
        raise die(f"unknown output format {output_format!r}; choose {', '.join(KINDS)}")
    build_policy(lang, preset.value, allow, config)  # a bad option fails here, not in a worker
    from langlock.clean.io import input_kind

    kind = input_kind(source)
    defaults = Paths.beside(source, output_format or kind)
    paths = Paths(output or defaults.kept, rejects or defaults.rejects, stats or defaults.stats)
    spec = CleanerSpec(
        lang,
        preset.value,
        tuple(allow or ()),
        mode.value,
        record_format,
        tuple(role or ("assistant",)),
        text_field,
        str(config) if config else None,
    )
    run = CleanRun(
        source,
        paths,
        spec,
        engine.value,
        workers or os.cpu_count() or 1,
        ray_address,
        limit,
        None,
        output_format,
        text_unit,
    )
    console = stderr_console()
    started = time.perf_counter()
    try:
        result = _clean_with_progress(run, console, limit)
    except KeyboardInterrupt:
        console.print("interrupted: no output was written", style="yellow")
        raise typer.Exit(130) from None
    except (OSError, ValueError) as exc:
        raise die(f"{source}: {exc}") from None
    seconds = time.perf_counter() - started
    megabytes = source.stat().st_size / 1e6 if source.is_file() else 0.0
    summary = result.to_dict()
    console.print(
        f"{summary['records_in']:,} in = {summary['kept']:,} kept "
        f"({summary['repaired']:,} repaired) + {summary['rejected']:,} rejected "
        f"({summary['rejected_unreadable']:,} unreadable, {summary['rejected_format']:,} "
        f"bad format, {summary['rejected_findings']:,} with findings)"
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
    console.print(f"kept: {paths.kept}\nrejects: {paths.rejects}\nstats: {paths.stats}")


def _clean_with_progress(run: Any, console: Any, limit: int | None) -> Any:
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

    total = limit or _count_records(run.source)
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
        task = progress.add_task("", total=total)
        return run.run(lambda done: progress.advance(task, done))


def _count_records(source: Path) -> int | None:
    """Lines of an uncompressed text input, for the ETA (a fast pass); None if unknown."""
    if not source.is_file() or source.suffix.lower() not in (".jsonl", ".json", ".ndjson", ".txt"):
        return None
    count = 0
    with source.open("rb") as handle:
        while block := handle.read(1 << 22):
            count += block.count(b"\n")
    return count
