"""LoRA preference tuning with TRL and peft, on the CPU by default.

The pairs are rendered to plain text the way the model is prompted at inference: through
the tokenizer's chat template, or, for a base model without one (the bundled Gemma 3 270M),
through Gemma's turn format, exactly as llama.cpp is prompted by ``langlock generate`` and
``langlock eval``. Each completion ends with the turn's end marker, which becomes the
tokenizer's EOS for the run, so the model learns to close its turn where llama.cpp stops.

The run folder holds the adapter (peft's files), ``run.json`` (settings, the pairs' hash,
metrics) and ``checkpoints/``; a rerun with the same settings and pairs resumes from the
last checkpoint, with other settings or pairs it is refused.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from langlock.io import write_atomic
from langlock.training.pairs import Pair, read_pairs


class LossName(StrEnum):
    """The preference losses ``langlock train`` offers (``sft``: the chosen sides only)."""

    dpo = "dpo"
    dpo_sft = "dpo+sft"
    orpo = "orpo"
    sft = "sft"


@dataclass(frozen=True)
class TrainSettings:
    model: str = "bundled"
    lang: str = "ru"
    loss: LossName = LossName.dpo_sft
    rank: int = 16
    alpha: int = 32
    steps: int = 200
    learning_rate: float = 5e-5
    #: DPO's beta (ORPO's lambda).
    beta: float = 0.1
    batch_size: int = 2
    grad_accum: int = 2
    max_length: int = 384
    seed: int = 0
    save_steps: int = 50
    threads: int | None = None
    #: Stop (save, export, score) after this many minutes of training, at a step's end.
    max_minutes: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"loss": str(self.loss)}


#: Settings a resumed run may change: they decide how fast and how long, not what is learnt.
RESUMABLE = frozenset({"threads", "max_minutes"})


def same_run(started: dict[str, Any], identity: dict[str, Any]) -> bool:
    """Whether a run folder's ``run.json`` is this run (settings in ``RESUMABLE`` aside).

    >>> me = {"settings": {"steps": 9, "threads": 2}, "pairs_sha256": "x"}
    >>> same_run({"settings": {"steps": 9, "threads": 1}, "pairs_sha256": "x"}, me)
    True
    >>> same_run({"settings": {"steps": 8}, "pairs_sha256": "x"}, me)
    False
    """

    def core(data: dict[str, Any]) -> dict[str, Any]:
        settings = data.get("settings") or {}
        return {
            "settings": {k: v for k, v in settings.items() if k not in RESUMABLE},
            "pairs_sha256": data.get("pairs_sha256"),
        }

    return core(started) == core(identity)


@dataclass(frozen=True)
class TrainResult:
    #: The peft adapter's folder (the run folder), and its llama.cpp GGUF when the base
    #: model is a GGUF.
    adapter: Path
    gguf: Path | None
    run_file: Path
    metrics: dict[str, Any]


#: Where a Gemma turn ends (the bundled model's end of answer).
GEMMA_END = "<end_of_turn>"


def file_hash(path: Path) -> str:
    """sha256 of a file, to tie a run to the exact pairs it was trained on."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def side_text(side: Any) -> str:
    """The text of a pair's side: the last message of a conversational side, or the string.

    >>> side_text([{"role": "assistant", "content": "Да."}]), side_text("Нет.")
    ('Да.', 'Нет.')
    """
    return str(side[-1]["content"]) if isinstance(side, list) else str(side)


def prompt_messages(prompt: Any) -> list[dict[str, str]]:
    """A pair's prompt as chat messages.

    >>> prompt_messages("Q?")
    [{'role': 'user', 'content': 'Q?'}]
    """
    return (
        [dict(m) for m in prompt]
        if isinstance(prompt, list)
        else [{"role": "user", "content": str(prompt)}]
    )


@dataclass(frozen=True)
class Renderer:
    """Renders prompts and completions as the model sees them at inference."""

    tokenizer: Any

    @cached_property
    def end(self) -> str:
        """The text that closes an answer: Gemma's end of turn, or what the template writes
        after the assistant's content."""
        if not self.tokenizer.chat_template:
            return GEMMA_END
        probe = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "ANSWER"}]
        full = self.tokenizer.apply_chat_template(probe, tokenize=False)
        tail = full[full.rindex("ANSWER") + len("ANSWER") :]
        return tail.strip() or str(self.tokenizer.eos_token)

    def prompt(self, messages: list[dict[str, str]]) -> str:
        if not self.tokenizer.chat_template:
            from langlock.decoding.bundled import gemma_prompt

            return gemma_prompt(messages)
        text = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        bos = self.tokenizer.bos_token
        # The trainers tokenize with the tokenizer's special tokens: no second BOS.
        return text[len(bos) :] if bos and text.startswith(bos) else text

    def row(self, pair: Pair) -> dict[str, str]:
        end = self.end
        return {
            "prompt": self.prompt(prompt_messages(pair["prompt"])),
            "chosen": side_text(pair["chosen"]) + end,
            "rejected": side_text(pair["rejected"]) + end,
        }


def training_rows(pairs: list[Pair], tokenizer: Any) -> list[dict[str, str]]:
    """The pairs as the trainers take them: prompt, chosen and rejected text."""
    renderer = Renderer(tokenizer)
    return [renderer.row(pair) for pair in pairs]


def peak_memory_mb() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


class RunFolder:
    """The run's folder: the settings and data it was started with, refused when they change."""

    def __init__(self, out_dir: Path, settings: TrainSettings, data_hash: str) -> None:
        self.out_dir = out_dir
        self.checkpoints = out_dir / "checkpoints"
        self.run_file = out_dir / "run.json"
        self.identity = {"settings": settings.to_json(), "pairs_sha256": data_hash}

    def resume_from(self) -> str | None:
        """The last checkpoint to resume from, or None for a fresh start."""
        if not self.run_file.exists():
            return None
        started = json.loads(self.run_file.read_text(encoding="utf-8"))
        if not same_run(started, self.identity):
            raise ValueError(
                f"{self.out_dir} holds a run with other settings or pairs; "
                "use another --out folder, or delete it to start over"
            )
        checkpoints = sorted(
            self.checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])
        )
        return str(checkpoints[-1]) if checkpoints else None

    def write(self, **extra: Any) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        data = self.identity | extra
        write_atomic(self.run_file, json.dumps(data, ensure_ascii=False, indent=1))


def train(
    pairs_path: Path,
    out_dir: Path,
    settings: TrainSettings = TrainSettings(),
    on_log: Callable[[dict[str, Any]], None] | None = None,
    check_quality: bool = True,
) -> TrainResult:
    """Train a LoRA adapter on the pairs; the adapter lands in ``out_dir`` (peft's format),
    with ``adapter.gguf`` for llama.cpp when the base is a GGUF, and the held-out perplexity
    of base and tuned model in the metrics (``check_quality``).

    ``on_log`` gets the trainer's logs (step, loss, rewards/margins...) as they come.
    Raises ``ValueError`` for unusable pairs or a run folder of another run.
    """
    import torch

    from langlock.training.model import load_model

    pairs_path, out_dir = Path(pairs_path), Path(out_dir)
    pairs = read_pairs(pairs_path)
    folder = RunFolder(out_dir, settings, file_hash(pairs_path))
    resume = folder.resume_from()
    folder.write(state="training", pairs=len(pairs))
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    loaded = load_model(settings.model)
    rows = training_rows(pairs, loaded.tokenizer)
    loaded.tokenizer.eos_token = Renderer(loaded.tokenizer).end
    started = time.perf_counter()
    trainer = build_trainer(loaded.model, loaded.tokenizer, rows, settings, folder, on_log)
    outcome = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - started
    trainer.save_model(str(out_dir))
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    metrics = {
        "steps": trainer.state.global_step,
        "train_loss": outcome.training_loss,
        "seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(1, trainer.state.global_step), 3),
        "peak_memory_mb": round(peak_memory_mb()),
        "last_log": logs[-1] if logs else {},
        "resumed_from": resume,
        "stopped_by_time": trainer.state.global_step < settings.steps,
    }
    if check_quality:
        from langlock.training.prompts import heldout_text
        from langlock.training.quality import base_and_tuned_perplexity

        texts = heldout_text(settings.lang)
        metrics["perplexity"] = base_and_tuned_perplexity(
            trainer.model, loaded.tokenizer, texts
        ).as_dict()
    gguf = None
    if loaded.gguf_path is not None:
        from langlock.training.export import export_lora_gguf

        gguf = export_lora_gguf(out_dir, out_dir / "adapter.gguf", loaded.gguf_path)
    folder.write(state="done", pairs=len(pairs), metrics=metrics, log=logs)
    return TrainResult(adapter=out_dir, gguf=gguf, run_file=folder.run_file, metrics=metrics)


def lora_config(settings: TrainSettings) -> Any:
    from peft import LoraConfig

    # peft's default targets for Gemma are q/v only; the habit lives in the MLPs as well.
    return LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def common_arguments(settings: TrainSettings, folder: RunFolder) -> dict[str, Any]:
    """What every trainer's config shares: CPU-safe defaults and the run's schedule."""
    return {
        "output_dir": str(folder.checkpoints),
        "max_steps": settings.steps,
        "per_device_train_batch_size": settings.batch_size,
        "gradient_accumulation_steps": settings.grad_accum,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": max(1, settings.steps // 20),
        "max_length": settings.max_length,
        "seed": settings.seed,
        "logging_steps": 1,
        "save_steps": settings.save_steps,
        "save_total_limit": 2,
        # TRL turns bf16 on by default; CPUs here have none, and checkpointing only slows.
        "use_cpu": True,
        "bf16": False,
        "fp16": False,
        "gradient_checkpointing": False,
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


def build_trainer(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    settings: TrainSettings,
    folder: RunFolder,
    on_log: Callable[[dict[str, Any]], None] | None,
) -> Any:
    """The TRL trainer for ``settings.loss`` over ``rows``, with a LoRA adapter."""
    from transformers import PrinterCallback, TrainerCallback

    started = time.monotonic()

    class Relay(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if on_log and logs:
                on_log({"step": state.global_step, "max_steps": state.max_steps} | dict(logs))

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            budget = settings.max_minutes
            if budget is not None and time.monotonic() - started > 60 * budget:
                control.should_training_stop = True
                control.should_save = True

    common = common_arguments(settings, folder)
    trainer = _trainer(model, tokenizer, rows, settings, common, Relay())
    # The Trainer prints every log dict to stdout without a progress bar; on_log has them.
    trainer.remove_callback(PrinterCallback)
    return trainer


def _trainer(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    settings: TrainSettings,
    common: dict[str, Any],
    relay: Any,
) -> Any:
    from datasets import Dataset

    loss = LossName(settings.loss)
    shared = {
        "model": model,
        "processing_class": tokenizer,
        "peft_config": lora_config(settings),
        "callbacks": [relay],
    }
    if loss is LossName.orpo:
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        config = ORPOConfig(**common, beta=settings.beta)
        return ORPOTrainer(args=config, train_dataset=Dataset.from_list(rows), **shared)
    if loss is LossName.sft:
        from trl import SFTConfig, SFTTrainer

        completions = [{"prompt": r["prompt"], "completion": r["chosen"]} for r in rows]
        return SFTTrainer(
            args=SFTConfig(**common), train_dataset=Dataset.from_list(completions), **shared
        )
    from trl import DPOConfig, DPOTrainer

    losses = ["sigmoid", "sft"] if loss is LossName.dpo_sft else ["sigmoid"]
    config = DPOConfig(**common, beta=settings.beta, loss_type=losses)
    # No ref_model: with a peft adapter the reference is the model with the adapter off.
    return DPOTrainer(args=config, train_dataset=Dataset.from_list(rows), **shared)
