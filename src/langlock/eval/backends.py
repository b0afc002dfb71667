"""Where answers come from: llama.cpp (the bundled Gemma or any GGUF), transformers (a Hugging
Face model folder, or a GGUF through transformers), or any OpenAI-compatible endpoint.

Every backend takes chat messages and returns a ``Generation``. ``repeat_penalty`` (None:
the engine's own default) maps to llama.cpp's ``repeat_penalty`` (last 64 tokens), to
transformers' ``repetition_penalty`` (the whole sequence), and to the ``repeat_penalty``
field that llama.cpp servers accept. Local backends can lock
decoding (``can_lock``); an endpoint cannot apply a logits processor, so lock strategies are
skipped for it, with the reason.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from langlock.guarding.frames import Message
from langlock.policy import Policy


@dataclass(frozen=True)
class LockRequest:
    """Lock this generation under ``policy``, also allowing ``scripts`` (those the prompt
    legitimately asks for)."""

    policy: Policy
    scripts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: int
    seconds: float
    finish: str = "stop"
    #: Model calls behind this answer, and the time beyond the first (a guard's cost).
    attempts: int = 1
    added_seconds: float = 0.0


class BackendError(RuntimeError):
    """A generation failed (dead server, bad reply): recorded, and the run goes on."""


class Backend(Protocol):
    name: str
    model: str
    can_lock: bool

    def generate(
        self,
        messages: list[Message],
        *,
        temperature: float,
        seed: int,
        max_tokens: int,
        lock: LockRequest | None = None,
        repeat_penalty: float | None = None,
    ) -> Generation: ...


class LlamaCppBackend:
    """A GGUF in llama-cpp-python. Models with a chat template use it; the bundled base
    Gemma, which has none, gets Gemma's turn format."""

    name = "llama.cpp"
    can_lock = True

    def __init__(
        self,
        model: str = "bundled",
        n_ctx: int = 4096,
        threads: int | None = None,
        lora: str | Path | None = None,
    ):
        from langlock.decoding.generation import load_llama

        self.llama = load_llama(model, n_ctx, threads, lora)
        self.model = "bundled Gemma 3 270M (Q4_K_M)" if model == "bundled" else Path(model).name
        if lora is not None:  # the adapter's bytes, so a retrained adapter is a new run
            self.model += f" + LoRA {Path(lora).name} ({_file_crc(Path(lora))})"
        self._locks: dict[tuple[int, frozenset[str]], Any] = {}

    def generate(
        self,
        messages: list[Message],
        *,
        temperature: float,
        seed: int,
        max_tokens: int,
        lock: LockRequest | None = None,
        repeat_penalty: float | None = None,
    ) -> Generation:
        import llama_cpp

        from langlock.decoding.generation import llama_answer

        options: dict[str, Any] = {
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens,
        }
        if repeat_penalty is not None:
            options["repeat_penalty"] = repeat_penalty
        if lock is not None:
            options["logits_processor"] = llama_cpp.LogitsProcessorList([self._lock(lock)])
        started = time.perf_counter()
        reply = llama_answer(self.llama, list(messages), **options)
        seconds = time.perf_counter() - started
        return Generation(
            text=reply.text, tokens=reply.tokens, seconds=seconds, finish=reply.finish
        )

    def _lock(self, request: LockRequest) -> Any:
        processor = _cached_lock(self._locks, self.llama, request)
        processor.reset()
        return processor


class TransformersBackend:
    """A Hugging Face model folder, or a ``.gguf`` file (dequantised by transformers)."""

    name = "transformers"
    can_lock = True

    def __init__(self, model: str) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model)
        if not path.exists():
            raise FileNotFoundError(f"no model at {path}")
        options = {"gguf_file": path.name} if path.suffix == ".gguf" else {}
        folder = str(path.parent if options else path)
        self.tokenizer = AutoTokenizer.from_pretrained(folder, **options)
        self.hf_model = AutoModelForCausalLM.from_pretrained(folder, **options)
        self.model = path.name
        self._locks: dict[tuple[int, frozenset[str]], Any] = {}

    def generate(
        self,
        messages: list[Message],
        *,
        temperature: float,
        seed: int,
        max_tokens: int,
        lock: LockRequest | None = None,
        repeat_penalty: float | None = None,
    ) -> Generation:
        import torch
        from transformers import LogitsProcessorList

        batch = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        processors = LogitsProcessorList([self._lock(lock)] if lock else [])
        torch.manual_seed(seed)
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": temperature} if temperature > 0 else {}
        )
        if repeat_penalty is not None:
            sampling["repetition_penalty"] = repeat_penalty
        started = time.perf_counter()
        out = self.hf_model.generate(
            **batch,
            max_new_tokens=max_tokens,
            logits_processor=processors,
            pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            **sampling,
        )
        seconds = time.perf_counter() - started
        new = out[0][batch["input_ids"].shape[1] :]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        finish = "length" if len(new) >= max_tokens else "stop"
        return Generation(text=text, tokens=len(new), seconds=seconds, finish=finish)

    def _lock(self, request: LockRequest) -> Any:
        return _cached_lock(self._locks, self.tokenizer, request)


def _cached_lock(
    locks: dict[tuple[int, frozenset[str]], Any], target: Any, request: LockRequest
) -> Any:
    """One lock per (policy, opened scripts): its masks are built once and reused."""
    from langlock.decoding import lock

    key = (id(request.policy), request.scripts)
    if key not in locks:
        locks[key] = lock(target, policy=request.policy, allow_scripts=request.scripts)
    return locks[key]


class EndpointBackend:
    """Any OpenAI-compatible ``/v1/chat/completions`` server (vLLM, llama.cpp, TGI, Ollama,
    a hosted API). It cannot run our logits processor: lock strategies are skipped."""

    name = "endpoint"
    can_lock = False
    cannot_lock_reason = "an OpenAI-compatible endpoint cannot run a logits processor"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 300.0
    ) -> None:
        import httpx

        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout
        )

    def generate(
        self,
        messages: list[Message],
        *,
        temperature: float,
        seed: int,
        max_tokens: int,
        lock: LockRequest | None = None,
        repeat_penalty: float | None = None,
    ) -> Generation:
        import httpx

        if lock is not None:
            raise BackendError(self.cannot_lock_reason)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens,
        }
        if repeat_penalty is not None:  # not an OpenAI field: sent only when asked for
            body["repeat_penalty"] = repeat_penalty
        started = time.perf_counter()
        try:
            response = self.client.post("chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise BackendError(f"{self.client.base_url}: {type(exc).__name__}: {exc}") from None
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise BackendError(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
            tokens = int((data.get("usage") or {}).get("completion_tokens") or 0)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendError(f"not an OpenAI chat completion: {exc!r}") from None
        finish = str(choice.get("finish_reason") or "stop")
        return Generation(text=str(text), tokens=tokens, seconds=seconds, finish=finish)


class BackendName(StrEnum):
    """The backends ``open_backend`` (and ``langlock eval --backend``) can start."""

    llama = "llama"
    transformers = "transformers"
    endpoint = "endpoint"


def _file_crc(path: Path) -> str:
    crc = 0
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            crc = zlib.crc32(block, crc)
    return f"{crc:08x}"


def open_backend(
    name: BackendName,
    model: str = "bundled",
    base_url: str | None = None,
    api_key: str | None = None,
    lora: str | Path | None = None,
) -> Backend:
    """Start a backend: ``model`` is "bundled" or a GGUF (llama), a model folder or GGUF
    (transformers), or the endpoint's model name. The endpoint's key falls back to
    ``$OPENAI_API_KEY``.

    >>> open_backend(BackendName.endpoint)
    Traceback (most recent call last):
    ...
    ValueError: --base-url is needed for the endpoint backend
    """
    if lora is not None and name is not BackendName.llama:
        raise ValueError("a LoRA adapter GGUF needs the llama backend")
    if name is BackendName.endpoint:
        if not base_url:
            raise ValueError("--base-url is needed for the endpoint backend")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        return EndpointBackend(base_url, model, key)
    if name is BackendName.transformers:
        return TransformersBackend(model)
    return LlamaCppBackend(model, lora=lora)
