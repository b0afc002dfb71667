"""Pairs from scored answers: which answers pair up, what is dropped, what the stats say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langlock.eval.prompts import EvalPrompt, builtin_prompts
from langlock.eval.scoring import score_answer
from langlock.policy import policy_for
from langlock.training.build import (
    PairSource,
    PairsSettings,
    balanced,
    disjoint_prompts,
    make_pairs,
    write_pairs,
)
from langlock.training.pairs import (
    PairStats,
    finished_text,
    model_pairs,
    read_pairs,
    verified,
)

POLICY = policy_for("ru", "standard")
PROMPT = "Почему небо голубое?"
CLEAN = "Небо голубое, потому что воздух рассеивает синий свет сильнее красного."
CLEAN_2 = "Солнечный свет рассеивается в атмосфере, и синий цвет виден лучше всего."
ENGLISH = "The sky is blue because air scatters blue light more than red light."
GLUED = "Небо голубое из-за scattering света в атмосфере."


def answer(text: str, strategy: str, sample: int = 0, prompt_id: str = "p1", **extra: object):
    """A record as the eval's generations.jsonl holds it, scored by the real checker."""
    return {
        "run": "r",
        "id": prompt_id,
        "category": "everyday",
        "prompt": PROMPT,
        "strategy": strategy,
        "sample": sample,
        "seed": sample,
        "answer": text,
        "finish": "stop",
        "error": None,
        **extra,
    } | score_answer(text, PROMPT, POLICY)


def test_a_slip_pairs_with_a_passing_framed_answer() -> None:
    stats = PairStats()
    records = [answer(ENGLISH, "none"), answer(CLEAN, "frame+lock")]
    [pair] = model_pairs(records, stats)
    assert pair["prompt"] == [{"role": "user", "content": PROMPT}]
    assert pair["chosen"] == [{"role": "assistant", "content": CLEAN}]
    assert pair["rejected"] == [{"role": "assistant", "content": ENGLISH}]
    assert pair["kind"] == "wrong_language" and pair["source"] == "model"
    assert pair["provenance"]["chosen"]["strategy"] == "frame+lock"
    assert stats.as_dict()["pairs"] == 1


def test_no_pair_without_a_slip_or_without_a_good_chosen() -> None:
    stats = PairStats()
    clean_only = [
        answer(CLEAN, "none", prompt_id="a"),
        answer(CLEAN_2, "frame+lock", prompt_id="a"),
    ]
    bad_chosen = [
        answer(ENGLISH, "none", prompt_id="b"),
        answer(GLUED, "frame+lock", prompt_id="b"),
    ]
    looping = "Небо голубое.\nНебо голубое.\nНебо голубое.\nНебо голубое."
    degenerate = [
        answer(ENGLISH, "none", prompt_id="c"),
        answer(looping, "frame+lock", prompt_id="c"),
    ]
    assert list(model_pairs(clean_only + bad_chosen + degenerate, stats)) == []
    assert (stats.no_slip, stats.no_chosen, stats.prompts) == (1, 2, 3)


def test_failed_generations_never_pair() -> None:
    stats = PairStats()
    records = [answer(ENGLISH, "none", error="dead server"), answer(CLEAN, "frame+lock")]
    assert list(model_pairs(records, stats)) == []


def test_samples_pair_in_order() -> None:
    records = [
        answer(GLUED, "none", sample=1),
        answer(ENGLISH, "none", sample=0),
        answer(CLEAN_2, "frame+lock", sample=1),
        answer(CLEAN, "frame+lock", sample=0),
    ]
    pairs = list(model_pairs(records, PairStats()))
    assert [(p["rejected"][0]["content"], p["chosen"][0]["content"]) for p in pairs] == [
        (ENGLISH, CLEAN),
        (GLUED, CLEAN_2),
    ]


def test_the_final_check_drops_and_counts() -> None:
    stats = PairStats()

    def pair(chosen: str, rejected: str) -> dict:
        return {
            "prompt": [{"role": "user", "content": PROMPT}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }

    candidates = [
        pair(CLEAN, ENGLISH),
        pair(GLUED, ENGLISH),
        pair(CLEAN, CLEAN_2),
        pair(CLEAN, CLEAN),
    ]
    kept = list(verified(candidates, POLICY, stats))
    assert kept == [candidates[0]]
    assert stats.dropped == {
        "chosen fails the checker": 1,
        "rejected passes the checker": 1,
        "identical sides": 1,
    }


def test_a_cut_answer_ends_at_its_last_sentence() -> None:
    cut = answer(CLEAN + " Кроме того, ещё одна причи", "frame+lock", finish="length")
    [pair] = model_pairs([answer(ENGLISH, "none"), cut], PairStats())
    assert pair["chosen"][0]["content"] == CLEAN


@given(st.text(max_size=200), st.sampled_from(["stop", "length", None]))
def test_finished_text_is_a_prefix(text: str, finish: str | None) -> None:
    out = finished_text(text, finish)
    assert text.startswith(out)
    assert out == text or finish == "length"


def test_make_pairs_accounts_for_every_candidate(tmp_path: Path) -> None:
    records = [
        answer(ENGLISH, "none", prompt_id="a"),
        answer(CLEAN, "frame+lock", prompt_id="a"),
        answer(CLEAN, "none", prompt_id="b"),
        answer(CLEAN_2, "frame+lock", prompt_id="b"),
    ]
    settings = PairsSettings(sources=(PairSource.model, PairSource.corruption), seed=3)
    pairs, summary = make_pairs(records, settings)
    assert (
        summary["pairs"]
        == len(pairs)
        == summary["candidates"] - sum(summary["checked"]["dropped"].values())
    )
    assert {p["source"] for p in pairs} == {"model", "corruption"}
    assert sum(summary["by_source_kind"].values()) == len(pairs)
    for pair in pairs:
        prompt = pair["prompt"][0]["content"]
        assert score_answer(pair["chosen"][0]["content"], prompt, POLICY)["ok"]
        assert not score_answer(pair["rejected"][0]["content"], prompt, POLICY)["ok"]
    out = tmp_path / "sub" / "pairs.jsonl"
    stats_path = write_pairs(out, pairs, summary)
    assert read_pairs(out) == pairs
    assert json.loads(stats_path.read_text(encoding="utf-8"))["pairs"] == len(pairs)


def test_read_pairs_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "q", "chosen": "a", "rejected": "b"}\n{"prompt": "q"}\n')
    with pytest.raises(ValueError, match=r"p.jsonl:2: a pair needs"):
        read_pairs(path)
    path.write_text("\n\n")
    with pytest.raises(ValueError, match="no pairs"):
        read_pairs(path)


def test_balanced_takes_every_category_in_turn() -> None:
    prompts = [EvalPrompt(f"{c}-{i}", c, f"{c} {i}?") for c in ("x", "y", "z") for i in range(5)]
    picked = balanced(prompts, 7)
    assert [p.category for p in picked] == ["x", "y", "z", "x", "y", "z", "x"]
    assert balanced(prompts, None) == prompts


def test_prompts_that_overlap_the_eval_set_are_left_out() -> None:
    evaluation = builtin_prompts("ru")[:2]
    copies = [EvalPrompt(f"copy-{p.id}", p.category, p.prompt.upper()) for p in evaluation]
    fresh = EvalPrompt("fresh", "everyday", "Как ухаживать за кактусом зимой на подоконнике?")
    kept, dropped = disjoint_prompts([*copies, fresh], "ru")
    assert kept == [fresh]
    assert dropped == sorted(p.id for p in copies)
