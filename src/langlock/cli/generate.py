"""``langlock generate``: one answer from a local GGUF model, optionally locked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from langlock.cli.options import LangOpt, PresetName, PresetOpt, die, stderr_console


def generate(
    question: Annotated[str, typer.Argument(help="The user's question.")],
    lock: Annotated[
        bool, typer.Option("--lock/--no-lock", help="Mask forbidden scripts while decoding.")
    ] = False,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.strict,
    model: Annotated[
        str, typer.Option("--model", help="A GGUF path, or 'bundled' (Gemma 3 270M).")
    ] = "bundled",
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.8,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 200,
    findings: Annotated[
        bool, typer.Option("--findings", help="Also print what the checker says of the answer.")
    ] = False,
    allow_script: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-script",
            help="A script the answer may use after all, e.g. Han (repeatable).",
        ),
    ] = None,
    lora: Annotated[
        Path | None,
        typer.Option("--lora", help="A LoRA adapter GGUF (langlock train) over the model."),
    ] = None,
    latin_bias: Annotated[
        float | None,
        typer.Option("--latin-bias", help="Logit added to Latin tokens in prose (standard)."),
    ] = None,
) -> None:
    """Answer a question with a local GGUF model through llama.cpp, optionally locked."""
    try:
        import llama_cpp

        from langlock.decoding import lock as make_lock
        from langlock.decoding.generation import llama_answer, load_llama
        from langlock.policy import Policy
    except ImportError as exc:
        raise die(f"{exc}; install the decoding extra: pip install 'langlock[decoding]'") from None
    try:
        policy = Policy.from_options(
            lang=lang, preset=preset.value, allow_scripts=allow_script or ()
        )
    except (ValueError, OSError) as exc:  # an unknown script name or language
        raise die(str(exc)) from None
    try:
        llama = load_llama(model, n_ctx=2048, lora=lora)
    except (FileNotFoundError, ValueError) as exc:
        raise die(str(exc)) from None
    options: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed}
    if lock:
        processor = make_lock(llama, policy=policy, latin_bias=latin_bias)
        options["logits_processor"] = llama_cpp.LogitsProcessorList([processor])
    from langlock.decoding.llama_cpp import LockFailure

    try:
        reply = llama_answer(llama, [{"role": "user", "content": question}], **options)
    except LockFailure as exc:
        raise die(str(exc)) from None
    from rich.console import Console

    answer = reply.text.strip()
    Console().print(answer, markup=False, highlight=False)
    if findings:
        import langlock

        report = langlock.check(answer, policy=policy, prompt=question)
        console = stderr_console()
        for f in report.findings:
            console.print(
                f"  {f.line}:{f.start}  {f.kind} ({f.severity})  {f.message}", markup=False
            )
        console.print("ok" if report.ok else "FAIL", style="green" if report.ok else "red")
