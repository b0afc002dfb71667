"""``langlock devset``: the checker scored on the labelled dev set."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from langlock.cli.options import PresetName, PresetOpt, die

if TYPE_CHECKING:
    from rich.console import Console

    from langlock.eval.devset import DevsetResult
from langlock.io import visible


def devset(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Dev set JSONL (default: shared/devset/answers.jsonl).", show_default=False
        ),
    ] = None,
    preset: PresetOpt = PresetName.standard,
    show_errors: Annotated[
        int, typer.Option("--show-errors", min=0, help="Print N false positives and negatives.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="Also score the naive baselines.")
    ] = True,
) -> None:
    """Score the checker on the hand-labelled dev set, next to naive baselines."""
    from langlock.eval import devset as ds

    try:
        result = ds.evaluate(path, preset=preset.value, baselines=baselines)
    except ds.DevsetError as exc:
        raise die(str(exc)) from None
    if as_json:
        data = result.to_dict()
        if show_errors:
            data["errors"] = {
                s.name: {
                    "false_positives": [e.to_dict() for e in s.false_positives[:show_errors]],
                    "false_negatives": [e.to_dict() for e in s.false_negatives[:show_errors]],
                }
                for s in result.systems
            }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    _print_devset(console, result)
    if show_errors:
        _print_devset_errors(console, result, show_errors)


def _print_devset(console: Console, result: DevsetResult) -> None:
    from rich.table import Table

    from langlock.text.findings import KINDS

    console.print(
        f"{result.path}: {result.answers} answers, {result.labelled_lines} labelled lines "
        f"({result.bad_lines} bad), preset {result.preset}; langlock answer pass rate "
        f"{result.answer_pass_rate:.1%}",
        markup=False,
    )
    lines = Table(
        title="line-level scores",
        title_justify="left",
        caption="P precision, R recall, FPR false-positive rate on clean lines",
        caption_justify="left",
    )
    for column in ("system", "P", "R", "F1", "FPR", "TP", "FP", "FN", "TN", "sec"):
        lines.add_column(column, justify="left" if column == "system" else "right")
    for system in result.systems:
        s = system.lines
        p = s.prf
        lines.add_row(
            system.name,
            f"{p.precision:.3f}",
            f"{p.recall:.3f}",
            f"{p.f1:.3f}",
            f"{s.fpr:.3f}",
            str(s.tp),
            str(s.fp),
            str(s.fn),
            str(s.tn),
            f"{system.seconds:.2f}",
        )
    console.print(lines)
    kinds = Table(title="recall per kind (baselines: line flagged at all)", title_justify="left")
    kinds.add_column("kind")
    kinds.add_column("n", justify="right")
    for system in result.systems:
        kinds.add_column(system.name, justify="right")
    for kind in KINDS:
        n = result.systems[0].kind_n.get(kind, 0)
        if n:
            kinds.add_row(kind, str(n), *(f"{s.kind_recall(kind):.2f}" for s in result.systems))
    console.print(kinds)
    for system in result.systems:
        console.print(f"  {system.name}: {system.description}", style="dim", markup=False)
    for note in result.notes:
        console.print(note, style="yellow", markup=False)


def _print_devset_errors(console: Console, result: DevsetResult, n: int) -> None:
    from rich.text import Text

    system = result.systems[0]
    for title, errors in (
        ("false positives", system.false_positives),
        ("false negatives", system.false_negatives),
    ):
        console.rule(f"{system.name} {title} ({len(errors)}; showing {min(n, len(errors))})")
        for error in errors[:n]:
            head = Text(f"{error.answer}:{error.line}  ", style="bold")
            head.append(", ".join(error.gold_kinds) or "clean", style="cyan")
            if error.predicted:
                head.append("  predicted: " + "; ".join(visible(p) for p in error.predicted))
            console.print(head)
            console.print(Text("    " + visible(error.text[:300])))
