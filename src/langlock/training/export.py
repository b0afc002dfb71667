"""A trained LoRA served two ways: as a llama.cpp LoRA adapter GGUF, loaded over the same
quantised base GGUF it was trained on, or merged into a Hugging Face model folder.

The adapter GGUF is what llama.cpp's own ``convert_lora_to_gguf.py`` writes: metadata
``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``, and for each
adapted weight ``<gguf name>.weight.lora_a`` (peft's A, ``rank x in``) and ``.lora_b`` (peft's
B, ``out x rank``); numpy's row-major shapes are ggml's reversed, so llama.cpp reads
``[in, rank]`` and ``[rank, out]``, the pair it checks against the base weight's ``[in, out]``.
llama.cpp scales each pair by ``alpha / rank``; where peft's scale differs (rsLoRA, per-module
alpha) the difference is folded into B.

Conversion is refused, never guessed, for what llama.cpp cannot serve as a plain LoRA pair:
DoRA, extra trained modules, LoRA on embeddings, biases, and architectures whose converter
rewrites weights in ways not handled here.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langlock.io import AtomicFiles
from langlock.training.model import TRAIN_HINT, resolve_source

if TYPE_CHECKING:  # numpy comes with the train extra; the module imports without it
    import numpy as np

#: Architectures (a GGUF's ``general.architecture``) whose HF -> GGUF conversion this export
#: mirrors, and whether llama.cpp's converter permutes their q/k weights for its RoPE layout.
#: Tested against llama.cpp: ``llama`` (SmolLM2) and ``gemma3``; the others convert their
#: attention and MLP weights unchanged in llama.cpp too, but are untested here.
ARCH_PERMUTES_QK: dict[str, bool] = {
    "llama": True,
    "gemma3": False,
    "gemma2": False,
    "gemma": False,
    "qwen2": False,
    "qwen3": False,
}

#: Adapter settings that make it more than plain LoRA pairs on linear weights.
_UNSUPPORTED_SETTINGS: dict[str, str] = {
    "use_dora": "DoRA (its magnitude vector has no place in a llama.cpp LoRA)",
    "modules_to_save": "fully trained extra modules (modules_to_save)",
    "trainable_token_indices": "trained token embeddings (trainable_token_indices)",
    "lora_bias": "LoRA biases (lora_bias)",
    "target_parameters": "LoRA on raw parameters (target_parameters)",
    "layer_replication": "replicated layers (layer_replication)",
    "fan_in_fan_out": "transposed (Conv1D-style) weights (fan_in_fan_out)",
    "alora_invocation_tokens": "activated LoRA (alora_invocation_tokens)",
    "use_qalora": "QA-LoRA (use_qalora)",
    "arrow_config": "Arrow routing (arrow_config)",
    "megatron_config": "Megatron parallel layers (megatron_config)",
}

_LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")


class AdapterExportError(ValueError):
    """The adapter cannot be written as a llama.cpp LoRA GGUF, and why."""


# -- the adapter folder ----------------------------------------------------------------------


def read_adapter_config(adapter_dir: Path) -> dict[str, Any]:
    """The folder's ``adapter_config.json``, checked to be plain LoRA."""
    path = adapter_dir / "adapter_config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{adapter_dir} has no adapter_config.json: not a peft adapter")
    config = json.loads(path.read_text(encoding="utf-8"))
    check_config(config)
    return config


def check_config(config: Mapping[str, Any]) -> None:
    """Raise ``AdapterExportError`` unless ``config`` describes plain LoRA on linear layers.

    >>> check_config({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "bias": "none"})
    >>> check_config({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "use_dora": True})
    Traceback (most recent call last):
    ...
    langlock.training.export.AdapterExportError: cannot export DoRA (its magnitude vector ...
    """
    if config.get("peft_type", "LORA") != "LORA":
        raise AdapterExportError(f"not a LoRA adapter: peft_type {config.get('peft_type')!r}")
    for key, what in _UNSUPPORTED_SETTINGS.items():
        if config.get(key):
            raise AdapterExportError(f"cannot export {what} to a llama.cpp LoRA GGUF")
    if config.get("bias", "none") != "none":
        raise AdapterExportError(f"cannot export trained biases (bias={config['bias']!r})")
    if not config.get("lora_alpha"):
        raise AdapterExportError("lora_alpha must be a positive number")


def read_adapter_tensors(adapter_dir: Path) -> dict[str, np.ndarray]:
    """The adapter's tensors as float32 arrays (read through torch: numpy has no bfloat16)."""
    path = adapter_dir / "adapter_model.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{adapter_dir} has no adapter_model.safetensors")
    try:
        from safetensors.torch import load_file
    except ImportError as exc:  # an optional part: say what to install
        raise ImportError(f"reading an adapter needs torch and safetensors: {TRAIN_HINT}") from exc
    return {name: t.float().numpy() for name, t in load_file(str(path)).items()}


def lora_pairs(tensors: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{module: (A, B)}`` from peft's saved names; anything else in the file is refused.

    >>> import numpy as np
    >>> a, b = np.zeros((2, 3)), np.zeros((4, 2))
    >>> pairs = lora_pairs({"base_model.model.m.q.lora_A.weight": a,
    ...                     "base_model.model.m.q.lora_B.weight": b})
    >>> [(k, v[0].shape, v[1].shape) for k, v in pairs.items()]
    [('m.q', (2, 3), (4, 2))]
    """
    parts: dict[str, dict[str, np.ndarray]] = {}
    for name, tensor in tensors.items():
        match = _LORA_KEY.match(name)
        if match is None:
            raise AdapterExportError(f"cannot export {name}: {refusal_reason(name)}")
        parts.setdefault(match["module"], {})[match["part"]] = tensor
    pairs = {}
    for module, found in sorted(parts.items()):
        if set(found) != {"A", "B"}:
            raise AdapterExportError(f"{module} has lora_{''.join(found)} without its partner")
        a, b = found["A"], found["B"]
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterExportError(
                f"{module}: lora_A {a.shape} and lora_B {b.shape} are not a linear LoRA pair"
            )
        pairs[module] = (a, b)
    if not pairs:
        raise AdapterExportError("the adapter holds no LoRA weights")
    return pairs


def refusal_reason(name: str) -> str:
    """Why a tensor that is not a LoRA A/B weight cannot go into the GGUF.

    >>> refusal_reason("base_model.model.embed.lora_embedding_A")
    'LoRA on embeddings is not supported'
    """
    if "lora_embedding" in name:
        return "LoRA on embeddings is not supported"
    if "lora_magnitude_vector" in name:
        return "DoRA is not supported"
    if "modules_to_save" in name or "trainable_tokens" in name:
        return "fully trained modules are not supported"
    if name.endswith(".bias"):
        return "biases are not supported"
    return "not a LoRA A/B weight"


# -- scale -----------------------------------------------------------------------------------


def pattern_value(patterns: Mapping[str, Any], module: str, default: Any) -> Any:
    """peft's per-module override (``rank_pattern``/``alpha_pattern``): the first pattern
    that matches the end of ``module`` at a name boundary, else ``default``.

    >>> pattern_value({"q_proj": 32}, "model.layers.0.self_attn.q_proj", 16)
    32
    >>> pattern_value({"q_proj": 32}, "model.layers.0.self_attn.k_proj", 16)
    16
    """
    for pattern, value in patterns.items():
        if re.match(rf"(.*\.)?({pattern})$", module):
            return value
    return default


def b_factor(config: Mapping[str, Any], module: str, rank: int) -> float:
    """What B must be multiplied by so llama.cpp's ``alpha / rank`` (with the file's single
    alpha) equals peft's scale for ``module``.

    >>> b_factor({"lora_alpha": 16}, "m.q_proj", 8)
    1.0
    >>> b_factor({"lora_alpha": 16, "use_rslora": True}, "m.q_proj", 16)
    4.0
    """
    alpha = float(config["lora_alpha"])
    module_alpha = float(pattern_value(config.get("alpha_pattern") or {}, module, alpha))
    peft_scale = module_alpha / (math.sqrt(rank) if config.get("use_rslora") else rank)
    return peft_scale / (alpha / rank)


# -- the base GGUF ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaseGguf:
    """What the export needs from the base GGUF: its architecture, depth, heads, and each
    weight's ggml shape (``[in, out]`` for a linear weight)."""

    arch: str
    name: str
    n_blocks: int
    n_head: int | None
    n_head_kv: int | None
    shapes: dict[str, tuple[int, ...]]


def read_base_gguf(path: Path) -> BaseGguf:
    """The base GGUF's metadata and tensor shapes (memory-mapped: no weight is read)."""
    try:
        import gguf
    except ImportError as exc:
        raise ImportError(f"exporting to GGUF needs the gguf package: {TRAIN_HINT}") from exc
    if not path.is_file():
        raise FileNotFoundError(f"no base GGUF at {path}")
    reader = gguf.GGUFReader(path)

    def field(key: str) -> Any:
        found = reader.get_field(key)
        return None if found is None else found.contents()

    arch = field("general.architecture")
    if not arch:
        raise AdapterExportError(f"{path} has no general.architecture: not a model GGUF")
    heads, heads_kv = (
        field(f"{arch}.attention.head_count"),
        field(f"{arch}.attention.head_count_kv"),
    )
    # A per-layer list of head counts is kept as None: q/k cannot be permuted with it.
    n_head = heads if isinstance(heads, int) else None
    # Without head_count_kv llama.cpp takes the attention to have as many kv heads as heads.
    n_head_kv = heads_kv if isinstance(heads_kv, int) else n_head if heads_kv is None else None
    return BaseGguf(
        arch=arch,
        name=field("general.name") or path.stem,
        n_blocks=int(field(f"{arch}.block_count") or 0),
        n_head=n_head,
        n_head_kv=n_head_kv,
        shapes={t.name: tuple(int(n) for n in t.shape) for t in reader.tensors},
    )


# -- HF -> GGUF ------------------------------------------------------------------------------


def gguf_weight_name(module: str, arch: str, n_blocks: int) -> tuple[str, str]:
    """The GGUF weight a HF module's LoRA adapts, and its kind (``attn_q``, ``ffn_down``…).

    >>> gguf_weight_name("model.layers.2.self_attn.k_proj", "llama", 30)
    ('blk.2.attn_k.weight', 'attn_k')
    """
    import gguf

    found = tensor_name_map(arch, n_blocks).get_type_and_name(module)
    if found is None:
        raise AdapterExportError(f"no GGUF tensor for the module {module} ({arch})")
    kind, name = found
    return f"{name}.weight", gguf.TENSOR_NAMES[kind].split(".")[-1]


@functools.lru_cache(maxsize=8)
def tensor_name_map(arch: str, n_blocks: int) -> Any:
    """gguf's HF -> GGUF name map for ``arch``, built once: it spells out every block."""
    import gguf

    by_name = {name: kind for kind, name in gguf.MODEL_ARCH_NAMES.items()}
    if arch not in by_name:
        raise AdapterExportError(f"gguf does not know the architecture {arch!r}")
    return gguf.get_tensor_name_map(by_name[arch], n_blocks)


def permute_for_rope(weights: np.ndarray, n_head: int) -> np.ndarray:
    """Rows of a q/k projection (or of its LoRA B) in llama.cpp's RoPE order: within each
    head, HF's two halves (``rotate_half``) become interleaved pairs, as llama.cpp's converter
    permutes the base weight. Permuting B permutes ``B @ A`` the same way.

    >>> import numpy as np
    >>> permute_for_rope(np.arange(8), 2).tolist()
    [0, 2, 1, 3, 4, 6, 5, 7]
    """
    rows = weights.shape[0]
    if rows % (2 * n_head):
        raise AdapterExportError(f"{rows} rows do not split into {n_head} heads of pairs")
    split = weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
    return split.swapaxes(1, 2).reshape(weights.shape)


def gguf_b(b: np.ndarray, kind: str, base: BaseGguf) -> np.ndarray:
    """B as llama.cpp needs it for a ``kind`` weight of ``base``'s architecture."""
    if not ARCH_PERMUTES_QK[base.arch] or kind not in ("attn_q", "attn_k"):
        return b
    heads = base.n_head if kind == "attn_q" else base.n_head_kv
    if heads is None:
        raise AdapterExportError(f"{base.arch}: the base GGUF gives no single head count")
    return permute_for_rope(b, heads)


def gguf_tensors(
    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]],
    config: Mapping[str, Any],
    base: BaseGguf,
) -> dict[str, np.ndarray]:
    """``{gguf name: float32 array}``, lora_a before lora_b, checked against the base shapes."""
    import numpy as np

    if base.arch not in ARCH_PERMUTES_QK:
        known = ", ".join(sorted(ARCH_PERMUTES_QK))
        raise AdapterExportError(f"exporting LoRA for {base.arch!r} is not supported ({known})")
    out: dict[str, np.ndarray] = {}
    for module, (a, b) in pairs.items():
        name, kind = gguf_weight_name(module, base.arch, base.n_blocks)
        shape = base.shapes.get(name)
        if shape is None:
            raise AdapterExportError(f"{module} -> {name}, which the base GGUF does not hold")
        if len(shape) != 2 or (a.shape[1], b.shape[0]) != shape:
            raise AdapterExportError(
                f"{module}: LoRA for a {a.shape[1]}x{b.shape[0]} weight, base {name} is {shape}"
            )
        factor = b_factor(config, module, a.shape[0])
        b = gguf_b(b if factor == 1.0 else b * factor, kind, base)
        out[f"{name}.lora_a"] = np.ascontiguousarray(a, dtype=np.float32)
        out[f"{name}.lora_b"] = np.ascontiguousarray(b, dtype=np.float32)
    return out


# -- writing ---------------------------------------------------------------------------------


def write_adapter_gguf(
    path: Path, tensors: Mapping[str, np.ndarray], base: BaseGguf, alpha: float
) -> None:
    """Write the adapter GGUF at ``path`` and flush it to disk."""
    import gguf

    writer = gguf.GGUFWriter(path, base.arch)
    try:
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        writer.add_name(f"{base.name} LoRA")
        for name, tensor in tensors.items():
            writer.add_tensor(name, tensor)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    # GGUFWriter opens the file itself; sync it so the rename cannot outrun the bytes.
    with path.open("rb+") as written:
        os.fsync(written.fileno())


def export_lora_gguf(adapter_dir: Path | str, out_path: Path | str, base_gguf: Path | str) -> Path:
    """Convert the peft LoRA in ``adapter_dir`` into a llama.cpp LoRA GGUF at ``out_path``,
    for the base ``base_gguf`` (a GGUF path, or ``bundled``) it was trained on.

    Written atomically: a failed export leaves no file, and an old one stays as it was.
    """
    adapter_dir, out_path = Path(adapter_dir), Path(out_path)
    base_path = resolve_source(str(base_gguf)).gguf_path
    if base_path is None:
        raise AdapterExportError(f"the base must be a GGUF file, not the folder {base_gguf}")
    config = read_adapter_config(adapter_dir)
    base = read_base_gguf(base_path)
    tensors = gguf_tensors(lora_pairs(read_adapter_tensors(adapter_dir)), config, base)
    files = AtomicFiles()
    temp = files.temp_for(out_path)
    try:
        write_adapter_gguf(temp, tensors, base, float(config["lora_alpha"]))
        files.commit()
    except BaseException:
        files.discard()
        raise
    return out_path


# -- merging ---------------------------------------------------------------------------------


def merge_lora(adapter_dir: Path | str, base: str, out_dir: Path | str) -> Path:
    """The LoRA in ``adapter_dir`` merged into ``base`` (as :func:`load_model` takes it):
    a float32 Hugging Face model folder with its tokenizer at ``out_dir``, written atomically.

    An existing ``out_dir`` is replaced only when it is empty or a model folder (it holds a
    config.json), so a wrong path cannot wipe an unrelated folder.
    """
    from langlock.training.model import load_model

    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{adapter_dir} has no adapter_config.json: not a peft adapter")
    if out_dir.exists() and not replaceable(out_dir):
        raise FileExistsError(f"{out_dir} exists and is not a model folder: not replacing it")
    try:
        from peft import PeftModel
    except ImportError as exc:  # an optional part: say what to install
        raise ImportError(f"merging a LoRA needs peft: {TRAIN_HINT}") from exc
    loaded = load_model(base)
    merged = PeftModel.from_pretrained(loaded.model, str(adapter_dir)).merge_and_unload()
    files = AtomicFiles()
    temp = files.temp_for(out_dir)
    try:
        temp.unlink()  # a folder goes where mkstemp reserved the name
        temp.mkdir()
        merged.save_pretrained(temp)
        loaded.tokenizer.save_pretrained(temp)
        files.commit()
    except BaseException:
        files.discard()
        raise
    return out_dir


def replaceable(folder: Path) -> bool:
    """Whether ``folder`` may be replaced by a merged model: empty, or a model folder."""
    if not folder.is_dir():
        return False
    return (folder / "config.json").is_file() or not any(folder.iterdir())


__all__ = ["AdapterExportError", "export_lora_gguf", "merge_lora"]
