"""One answer from a GGUF model in llama-cpp-python, the same way for every door.

A model with a chat template answers through it; a base model without one (the bundled
Gemma 3 270M) gets Gemma's turn format and stops at its turn markers. llama-cpp-python is
imported by the caller that built the ``Llama``; nothing here imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langlock.decoding.bundled import bundled_model_path, gemma_prompt

#: Where a Gemma turn ends: the model's own end, or a turn it starts for the user.
GEMMA_STOPS = ("<end_of_turn>", "<start_of_turn>")


@dataclass(frozen=True)
class LlamaReply:
    """The answer's text, the tokens it took and why it stopped ("stop", "length")."""

    text: str
    tokens: int
    finish: str


def model_path(model: str) -> Path:
    """The GGUF file ``model`` names: ``"bundled"`` (Gemma 3 270M) or a path.

    >>> model_path("/models/x.gguf")
    PosixPath('/models/x.gguf')
    """
    return bundled_model_path() if model == "bundled" else Path(model)


def load_llama(
    model: str, n_ctx: int, threads: int | None = None, lora: str | Path | None = None
) -> Any:
    """A ``llama_cpp.Llama`` for ``model`` (see :func:`model_path`), quiet, with the LoRA
    adapter GGUF ``lora`` applied over it when given (``langlock train`` exports one).

    Raises ``FileNotFoundError`` when there is no such file, ``ImportError`` without
    llama-cpp-python, ``ValueError`` when llama.cpp cannot load the adapter.
    """
    import llama_cpp

    path = model_path(model)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    options: dict[str, Any] = {"n_ctx": n_ctx, "n_threads": threads, "verbose": False}
    if lora is not None:
        if not Path(lora).is_file():
            raise FileNotFoundError(f"no LoRA adapter at {lora}")
        options["lora_path"] = str(lora)
    try:
        return llama_cpp.Llama(model_path=str(path), **options)
    except (ValueError, RuntimeError) as exc:
        if lora is None:
            raise
        raise ValueError(f"llama.cpp cannot apply the adapter {lora} to {path}: {exc}") from None


def has_chat_template(llama: Any) -> bool:
    """Whether the GGUF carries a chat template (the bundled base Gemma does not)."""
    return "tokenizer.chat_template" in llama.metadata


def llama_answer(llama: Any, messages: list[dict[str, str]], **options: Any) -> LlamaReply:
    """The model's reply to a conversation; ``options`` go to llama-cpp-python as they are
    (``temperature``, ``seed``, ``max_tokens``, ``logits_processor``, ``repeat_penalty``).

    Raises ``langlock.decoding.llama_cpp.LockFailure`` when a lock among the processors
    failed inside a step (it ended the answer there rather than let it run unlocked)."""
    if has_chat_template(llama):
        reply = llama.create_chat_completion(messages, **options)
        text = reply["choices"][0]["message"]["content"] or ""
    else:
        reply = llama(gemma_prompt(messages), stop=list(GEMMA_STOPS), **options)
        text = reply["choices"][0]["text"]
    for processor in options.get("logits_processor") or ():
        if hasattr(processor, "raise_failures"):  # a lock that failed ended the answer early
            processor.raise_failures()
    return LlamaReply(
        text=str(text),
        tokens=int(reply["usage"]["completion_tokens"]),
        finish=str(reply["choices"][0].get("finish_reason") or "stop"),
    )
