"""``langlock eval``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from langlock.cli.options import (
    LangOpt,
    PresetName,
    PresetOpt,
    die,
    stderr_console,
    step_progress,
)
from langlock.eval.backends import BackendName
from langlock.eval.formatting import interval_text, pct


def eval_command(
    prompts: Annotated[
        Path | None,
        typer.Option("--prompts", help="JSONL or CSV with a 'prompt' column (default: built-in)."),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Only the built-in demo subset.")] = False,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Only these categories (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N prompts.")] = None,
    backend: Annotated[BackendName, typer.Option("--backend")] = BackendName.llama,
    model: Annotated[
        str,
        typer.Option("--model", help="'bundled', a GGUF, a HF folder, or the endpoint's model."),
    ] = "bundled",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible base URL (…/v1).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar="LANGLOCK_API_KEY", show_default=False)
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            help="none, frame, lock, frame+lock, guard, frame+lock+guard, or all (repeatable; "
            "default: the first four).",
        ),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=1)] = 2,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.7,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    repeat_penalty: Annotated[
        float | None,
        typer.Option(
            "--repeat-penalty",
            min=0.0,
            help="Same for every strategy. Default: 1.1 on local backends (as Ollama serves), "
            "the server's own on an endpoint; 1 turns it off.",
            show_default=False,
        ),
    ] = None,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    lock_preset: Annotated[
        PresetName, typer.Option("--lock-preset", help="Preset the lock strategies decode under.")
    ] = PresetName.strict,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the JSONL, summary and report.")
    ] = Path("langlock-eval"),
    lora: Annotated[
        Path | None,
        typer.Option(
            "--lora",
            help="A LoRA adapter GGUF (langlock train): every strategy runs on the base model "
            "(OUT/base) and on the tuned one (OUT/tuned), reported side by side.",
        ),
    ] = None,
) -> None:
    """How often does a model leave the target language, and which remedy fixes it at what
    cost: every prompt under each strategy, scored by the checker."""
    from langlock.eval.backends import open_backend
    from langlock.eval.prompts import select_prompts
    from langlock.eval.runner import start_run

    try:
        chosen = select_prompts(prompts, lang=lang, demo=demo, categories=category, limit=limit)
    except ValueError as exc:
        raise die(str(exc)) from None
    console = stderr_console()

    def skip(name: str, why: str) -> None:
        console.print(f"skipping {name}: {why}", style="yellow")

    models = {"": None} if lora is None else {"base": None, "tuned": lora}
    runs = []
    for folder, adapter in models.items():
        try:
            engine = open_backend(backend, model, base_url, api_key, lora=adapter)
        except (ImportError, FileNotFoundError, OSError, ValueError) as exc:
            raise die(f"cannot start the {backend.value} backend: {exc}") from None
        try:
            runs.append(
                start_run(
                    engine,
                    chosen,
                    out / folder if folder else out,
                    remedies=strategy,
                    on_skip=None if runs else skip,
                    lang=lang,
                    preset=preset.value,
                    lock_preset=lock_preset.value,
                    temperature=temperature,
                    samples=samples,
                    seed=seed,
                    max_tokens=max_tokens,
                    repeat_penalty=repeat_penalty,
                )
            )
        except ValueError as exc:
            raise die(str(exc)) from None
    complete = True
    for run in runs:  # after Ctrl-C, the next run does not start
        complete = complete and _run_with_progress(run, console)
    if len(runs) == 2:
        from langlock.eval.compare import write_joint_outputs

        paths = write_joint_outputs(runs[0], runs[1], out)
    else:
        paths = runs[0].write_outputs()
    _print_eval_table(json.loads(paths["summary"].read_text(encoding="utf-8")))
    console.print(f"generations: {paths['jsonl']}\nsummary:     {paths['summary']}")
    console.print(f"report:      {paths['report']}", style="bold")
    if not complete:
        console.print("interrupted: re-run the same command to resume", style="yellow")
        raise typer.Exit(130)


def _run_with_progress(run: Any, console: Any) -> bool:
    todo = run.pending()
    if not todo:
        console.print("every answer is already in the JSONL: re-scoring only")
        return True
    failed = 0
    with step_progress("eval", console) as progress:
        task = progress.add_task("", total=len(todo))

        def done(record: dict[str, Any]) -> None:
            nonlocal failed
            failed += record["error"] is not None
            note = f"{record['strategy']} {record['id']}" + (
                f"  errors: {failed}" if failed else ""
            )
            progress.update(task, advance=1, description=note)

        return run.execute(done)


def _penalty_note(summary: dict[str, Any]) -> str:
    penalty = summary.get("repeat_penalty")
    return f" · repeat penalty {penalty}" if penalty not in (None, 1.0) else ""


def _print_eval_table(summary: dict[str, Any]) -> None:
    """Two narrow tables (they fit 80 columns): verdicts, then kinds."""
    from rich.console import Console
    from rich.table import Table

    def share(x: float | None) -> str:  # the terminal's spelling: no "<1%", "–" for none
        return pct(x, missing="–", tiny=None)

    def interval(r: dict[str, float]) -> str:
        return interval_text(r, missing="–", tiny=None)

    rows = {(r["strategy"], r["category"]): r for r in summary["rows"]}
    verdicts = Table(
        title=f"{summary['model']} · {summary['lang']} · scored {summary['preset']} · "
        f"T={summary['temperature']}{_penalty_note(summary)} · "
        f"{summary['generations']}/{summary['expected']} answers",
        caption="pass: no major finding; degenerate: empty, looping or wordless answers; "
        "trap: prompts that ask for foreign text (a pass means it was not blocked)",
    )
    for column in ("strategy", "pass [95% CI]", "degenerate", "lines ok", "trap pass"):
        verdicts.add_column(column)
    verdicts.add_column("chars", justify="right")
    verdicts.add_column("tok/s", justify="right")
    guarded = any(r.get("mean_attempts", 1.0) > 1.0 for r in summary["rows"])
    if guarded:
        verdicts.add_column("tries (+s)", justify="right")
    kinds = Table(title="answers with a major finding, by kind; LCB line/word pass rates")
    kinds.add_column("strategy")
    for column in ("script", "mixed", "word", "language", "translit", "other", "LPR", "WPR"):
        kinds.add_column(column, justify="right")
    main = ("foreign_script", "mixed_script", "foreign_word", "wrong_language", "translit")
    for name in summary["strategies"]:
        r = rows[(name, "all")]
        trap = rows.get((name, "trap"))
        verdicts.add_row(
            name,
            interval(r["pass_rate"]),
            share(r["degenerate_rate"]["value"]),
            share(r["line_pass_rate"]["value"]),
            interval(trap["pass_rate"]) if trap and trap["n"] else "–",
            f"{r['mean_chars']:.0f}",
            f"{r['tokens_per_second']:.1f}",
            *(
                [f"{r.get('mean_attempts', 1.0):.2f} (+{r.get('mean_added_seconds', 0.0):.1f})"]
                if guarded
                else []
            ),
        )
        other = max((v for k, v in r["kinds"].items() if k not in main), default=0.0)
        kinds.add_row(
            name,
            *(share(r["kinds"][k]) for k in main),
            share(other),
            share(r["lpr"]),
            share(r["wpr"]),
        )
    console = Console()
    console.print(verdicts)
    console.print(kinds)
