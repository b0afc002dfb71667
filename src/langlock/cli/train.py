"""``langlock pairs`` and ``langlock train``: preference pairs from the model's own slips,
then a LoRA run that trains the habit in, exported for llama.cpp."""

from __future__ import annotations

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

TRAIN_EXTRA = "pip install 'langlock[train]'"

ModelOpt = Annotated[
    str,
    typer.Option("--model", help="'bundled' (Gemma 3 270M), a GGUF, or a HF model folder."),
]
SeedOpt = Annotated[int, typer.Option("--seed")]


def pairs(
    out: Annotated[Path, typer.Option("--out", "-o", help="The pairs JSONL.")] = Path(
        "pairs.jsonl"
    ),
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="JSONL or CSV with a 'prompt' column (default: the built-in training set); "
            "prompts that overlap the built-in eval set are left out.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="At most N prompts, taken in turn per category."),
    ] = None,
    model: ModelOpt = "bundled",
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="model (the model's own slips) and/or corruption (recipes on its clean "
            "answers); repeatable, default both.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="Only these corruption recipes (repeatable)."),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=1)] = 1,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.7,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 96,
    seed: SeedOpt = 0,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    lock_preset: Annotated[
        PresetName, typer.Option("--lock-preset", help="Preset the chosen side decodes under.")
    ] = PresetName.strict,
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers", help="Folder for the sampled answers (default: OUT's name + -answers)."
        ),
    ] = None,
) -> None:
    """Preference pairs (TRL's conversational format) from the model's own slips: each
    prompt answered under none and frame+lock; an unframed answer that fails the checker is
    rejected, a framed and locked one that passes is chosen. Every pair is checked again."""
    from langlock.training.build import PairSource, PairsSettings, balanced, disjoint_prompts
    from langlock.training.corrupt import corruption_kinds

    try:
        sources = tuple(PairSource(s) for s in source or PairSource)
    except ValueError as exc:
        raise die(f"{exc}; choose from {', '.join(PairSource)}") from None
    try:
        corruption_kinds(kind)  # an unknown recipe fails now, not after the sampling
    except ValueError as exc:
        raise die(str(exc)) from None
    try:
        chosen, overlap = disjoint_prompts(balanced(_training_prompts(prompts, lang), limit), lang)
    except ValueError as exc:
        raise die(str(exc)) from None
    console = stderr_console()
    if overlap:
        console.print(f"left out {len(overlap)} prompts that overlap the eval set", style="yellow")
    if not chosen:
        raise die("no training prompts left")
    settings = PairsSettings(
        lang=lang,
        preset=preset.value,
        lock_preset=lock_preset.value,
        samples=samples,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        sources=sources,
        kinds=tuple(kind) if kind else None,
    )
    stats_path, summary, complete = _sample_and_pair(model, chosen, out, settings, answers)
    console.print(
        f"{summary['pairs']} pairs ({summary['candidates']} candidates): "
        + ", ".join(f"{k} {v}" for k, v in summary["by_source_kind"].items())
    )
    model_stats = summary["model"]
    console.print(
        f"model slips: {model_stats['prompts']} prompts, {model_stats['no_slip']} without a "
        f"slip, {model_stats['no_chosen']} without a passing chosen answer; dropped at the "
        f"final check: {summary['checked']['dropped'] or 'none'}"
    )
    console.print(f"pairs: {out}\nstats: {stats_path}", style="bold")
    if not complete:
        console.print("interrupted: re-run the same command to resume", style="yellow")
        raise typer.Exit(130)


def _training_prompts(path: Path | None, lang: str) -> list[Any]:
    from langlock.eval.prompts import load_prompts
    from langlock.training.prompts import training_prompts

    return load_prompts(path) if path else training_prompts(lang)


def _sample_and_pair(
    model: str, prompts: list[Any], out: Path, settings: Any, answers: Path | None
) -> tuple[Path, dict[str, Any], bool]:
    from langlock.eval.backends import LlamaCppBackend
    from langlock.training.build import build_pairs, sampling_run

    try:
        backend = LlamaCppBackend(model)
    except (ImportError, FileNotFoundError, OSError, ValueError) as exc:
        raise die(f"cannot start llama.cpp: {exc}") from None
    work = answers or out.with_name(out.stem + "-answers")
    try:
        todo = len(sampling_run(backend, prompts, work, settings).pending())
    except ValueError as exc:
        raise die(str(exc)) from None
    with step_progress("sampling", stderr_console()) as progress:
        task = progress.add_task("", total=todo)
        return build_pairs(
            backend,
            prompts,
            out,
            settings,
            work,
            on_answer=lambda _: progress.update(task, advance=1),
        )


def train(
    pairs_file: Annotated[Path, typer.Argument(help="Pairs JSONL (langlock pairs).")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder: adapter, adapter.gguf, run.json.")
    ] = Path("langlock-lora"),
    model: ModelOpt = "bundled",
    loss: Annotated[str, typer.Option("--loss", help="dpo, dpo+sft, orpo or sft.")] = "dpo+sft",
    rank: Annotated[int, typer.Option("--rank", min=1)] = 16,
    alpha: Annotated[int | None, typer.Option("--alpha", help="Default: 2 × rank.")] = None,
    steps: Annotated[int, typer.Option("--steps", min=1)] = 200,
    learning_rate: Annotated[float, typer.Option("--learning-rate", "--lr", min=0.0)] = 5e-5,
    beta: Annotated[float, typer.Option("--beta", help="DPO's beta (ORPO's lambda).")] = 0.1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 2,
    grad_accum: Annotated[int, typer.Option("--grad-accum", min=1)] = 2,
    max_length: Annotated[int, typer.Option("--max-length", min=16)] = 384,
    save_steps: Annotated[int, typer.Option("--save-steps", min=1)] = 50,
    threads: Annotated[int | None, typer.Option("--threads", min=1)] = None,
    max_minutes: Annotated[
        float | None,
        typer.Option(
            "--max-minutes",
            min=0.0,
            help="Stop after this many minutes (saved, exported, scored); a rerun with a "
            "larger budget resumes.",
        ),
    ] = None,
    seed: SeedOpt = 0,
    lang: LangOpt = "ru",
    merge: Annotated[
        Path | None,
        typer.Option("--merge", help="Also write the merged model (a HF folder) here."),
    ] = None,
    quality: Annotated[
        bool,
        typer.Option(
            "--quality/--no-quality",
            help="Held-out perplexity of base and tuned model at the end.",
        ),
    ] = True,
) -> None:
    """LoRA preference tuning (TRL and peft, on the CPU) on a pairs JSONL; resumable from
    the run folder's checkpoints; the adapter is exported as a llama.cpp LoRA GGUF."""
    from langlock.training.train import LossName, TrainSettings

    try:
        settings = TrainSettings(
            model=model,
            lang=lang,
            loss=LossName(loss),
            rank=rank,
            alpha=alpha or 2 * rank,
            steps=steps,
            learning_rate=learning_rate,
            beta=beta,
            batch_size=batch_size,
            grad_accum=grad_accum,
            max_length=max_length,
            seed=seed,
            save_steps=save_steps,
            threads=threads,
            max_minutes=max_minutes,
        )
    except ValueError:
        raise die(f"unknown loss {loss!r}; choose from {', '.join(LossName)}") from None
    result = _train_with_progress(pairs_file, out, settings, quality)
    console = stderr_console()
    metrics = result.metrics
    if metrics["stopped_by_time"]:
        console.print(f"stopped by --max-minutes after {metrics['steps']} steps", style="yellow")
    console.print(
        f"{metrics['steps']} steps in {metrics['seconds']:.0f} s "
        f"({metrics['seconds_per_step']:.2f} s/step, peak {metrics['peak_memory_mb']} MB), "
        f"train loss {metrics['train_loss']:.3f}"
    )
    if "perplexity" in metrics:
        p = metrics["perplexity"]
        console.print(
            f"held-out perplexity: base {p['base']:.2f}, tuned {p['tuned']:.2f} "
            f"({p['change']:+.1%}, {p['tokens']} tokens)"
        )
    if merge is not None:
        from langlock.training.export import merge_lora

        try:
            merge_lora(result.adapter, model, merge)
        except (OSError, ValueError) as exc:
            raise die(f"cannot merge: {exc}") from None
        console.print(f"merged model: {merge}")
    console.print(f"adapter: {result.adapter}\nrun:     {result.run_file}", style="bold")
    if result.gguf:
        console.print(f"gguf:    {result.gguf}", style="bold")


def _train_with_progress(pairs_file: Path, out: Path, settings: Any, quality: bool) -> Any:
    try:
        from langlock.training.train import train as run_training
    except ImportError as exc:
        raise die(f"{exc}; {TRAIN_EXTRA}") from None
    with step_progress("train", stderr_console()) as progress:
        task = progress.add_task("loading the model", total=settings.steps)

        def on_log(log: dict[str, Any]) -> None:
            if "loss" not in log:
                return
            margin = log.get("rewards/margins")
            note = f"loss {log['loss']:.3f}" + (f" margin {margin:+.3f}" if margin else "")
            progress.update(task, completed=log["step"], description=note)

        try:
            return run_training(pairs_file, out, settings, on_log, check_quality=quality)
        except (ValueError, FileNotFoundError) as exc:
            raise die(str(exc)) from None
        except ImportError as exc:
            raise die(f"{exc}; {TRAIN_EXTRA}") from None
