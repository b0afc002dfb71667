"""The model a LoRA is trained on: the bundled Gemma 3 270M, any GGUF file, or a Hugging Face
model folder, loaded with transformers in float32 on the CPU.

A GGUF is dequantised by transformers as it loads, so the weights trained on are exactly the
quantised ones llama.cpp serves; that is why the exported adapter fits the quantised base.
Nothing is fetched from a model hub: a name that is not ``bundled`` must be a local path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRAIN_HINT = "pip install 'langlock[train]'"
BUNDLED = "bundled"


@dataclass(frozen=True, slots=True)
class BaseModel:
    """A causal LM ready for LoRA training, with its tokenizer and where it came from.

    ``gguf_path`` is the GGUF the weights were read from (the base an exported adapter is
    served over), or None for a model folder. The bundled Gemma is a base model: its
    tokenizer has no chat template, prompts use Gemma's turn format.
    """

    model: Any
    tokenizer: Any
    gguf_path: Path | None
    source: str


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where ``from_pretrained`` reads a model: a folder, and the GGUF file inside it."""

    folder: Path
    gguf_file: str | None

    @property
    def gguf_path(self) -> Path | None:
        return self.folder / self.gguf_file if self.gguf_file else None

    def options(self) -> dict[str, str]:
        """The keyword ``from_pretrained`` needs for a GGUF (none for a model folder)."""
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def resolve_source(model: str) -> ModelSource:
    """Where ``model`` lives: ``bundled``, a ``*.gguf`` file or a model folder.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "m.gguf").write_bytes(b"")
    >>> resolve_source(str(folder / "m.gguf")).gguf_file
    'm.gguf'
    >>> resolve_source(str(folder / "missing"))
    Traceback (most recent call last):
    ...
    FileNotFoundError: no model at ...missing: give 'bundled', a .gguf file or a model folder
    """
    if model == BUNDLED:
        from langlock.decoding.bundled import bundled_model_path

        path = bundled_model_path()
        return ModelSource(path.parent, path.name)
    path = Path(model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {path}")
        return ModelSource(path.parent, path.name)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is a folder without config.json: not a model folder")
        return ModelSource(path, None)
    raise FileNotFoundError(f"no model at {path}: give 'bundled', a .gguf file or a model folder")


def load_model(model: str = BUNDLED) -> BaseModel:
    """Load ``model`` (``bundled``, a ``*.gguf`` path or a model folder) for training:
    float32, on the CPU, tokenizer included."""
    source = resolve_source(model)
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # an optional part: say what to install
        raise ImportError(f"training needs torch and transformers: {TRAIN_HINT}") from exc
    if source.gguf_file:
        try:
            import gguf  # noqa: F401  (transformers reads GGUF files through it)
        except ImportError as exc:
            raise ImportError(f"loading a GGUF needs the gguf package: {TRAIN_HINT}") from exc
    tokenizer = AutoTokenizer.from_pretrained(source.folder, **source.options())
    loaded = AutoModelForCausalLM.from_pretrained(
        source.folder, dtype=torch.float32, device_map="cpu", **source.options()
    )
    return BaseModel(
        model=plain_float_model(loaded),
        tokenizer=tokenizer,
        gguf_path=source.gguf_path,
        source=model,
    )


def plain_float_model(model: Any) -> Any:
    """``model`` without transformers' GGUF marker. The weights are already dequantised to
    float32, but the marker makes the Trainer and ``save_pretrained`` treat the model as a
    quantised one (refusing to train it, writing a quantization config a reload trips on)."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return model
    method = str(getattr(quantizer.quantization_config, "quant_method", "")).lower()
    if method.endswith("gguf"):
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    return model
