"""The training prompt set and the held-out text: size, shape, and kept apart from the eval."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest

from langlock.eval.prompts import EvalPrompt, PromptFileError, builtin_prompts
from langlock.text.check import check
from langlock.training.prompts import (
    heldout_text,
    normalize,
    overlapping_prompts,
    training_prompts,
)

CATEGORIES = {"everyday", "technical", "english_instruction", "long_form"}


def test_training_set_is_big_enough_in_every_category() -> None:
    prompts = training_prompts("ru")
    counts = Counter(p.category for p in prompts)
    assert len(prompts) >= 500
    assert set(counts) == CATEGORIES
    assert min(counts.values()) >= 80, counts


def test_ids_are_unique_and_follow_the_category() -> None:
    prompts = training_prompts()
    ids = [p.id for p in prompts]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(rf"train-{p.category}-\d{{3}}", p.id) for p in prompts)


def test_no_duplicates_or_near_duplicates_inside_the_training_set() -> None:
    prompts = training_prompts()
    assert len({normalize(p.prompt) for p in prompts}) == len(prompts)
    assert overlapping_prompts(prompts, prompts) == []


def test_training_set_is_disjoint_from_the_eval_set() -> None:
    assert overlapping_prompts(training_prompts("ru"), builtin_prompts("ru")) == []


def test_overlap_check_catches_exact_and_near_duplicates() -> None:
    evaluation = builtin_prompts("ru")
    first, second = evaluation[0], evaluation[2]
    # The same prompt with other case, spacing and punctuation.
    exact = EvalPrompt("t-exact", "x", "  " + first.prompt.upper().replace("?", "!!") + " ")
    # One word added to a long prompt: a near-duplicate, not an equal one.
    near = EvalPrompt("t-near", "x", second.prompt.rstrip("?") + " дома?")
    fresh = EvalPrompt("t-fresh", "x", "Сколько лап у паука?")
    assert normalize(near.prompt) != normalize(second.prompt)
    found = overlapping_prompts([exact, near, fresh], evaluation)
    assert ("t-exact", first.id) in found
    assert ("t-near", second.id) in found
    assert not [pair for pair in found if pair[0] == "t-fresh"]


def test_overlap_check_flags_duplicates_inside_one_list() -> None:
    prompts = [
        EvalPrompt("a", "x", "Как сварить рассыпчатую гречку?"),
        EvalPrompt("b", "x", "как сварить рассыпчатую гречку"),
        EvalPrompt("c", "x", "Сколько лап у паука?"),
    ]
    assert overlapping_prompts(prompts, prompts) == [("a", "b")]


def test_heldout_paragraphs_pass_the_strict_checker() -> None:
    paragraphs = heldout_text("ru")
    assert len(paragraphs) >= 25
    assert sum(len(p.split()) for p in paragraphs) >= 3000
    for paragraph in paragraphs:
        assert not re.search("[A-Za-z]", paragraph)
        findings = check(paragraph, lang="ru", preset="strict").findings
        assert not findings, (paragraph[:60], findings)


def test_heldout_sentences_appear_in_no_prompt() -> None:
    prompts = [normalize(p.prompt) for p in [*training_prompts("ru"), *builtin_prompts("ru")]]
    sentences = [
        normalize(s)
        for paragraph in heldout_text("ru")
        for s in re.split(r"(?<=[.!?…])\s+", paragraph)
    ]
    assert len(sentences) > 100
    leaked = [s for s in sentences if s and any(s in prompt for prompt in prompts)]
    assert leaked == []


@pytest.mark.parametrize("read", [training_prompts, heldout_text])
def test_unknown_language_raises_a_clear_error(read: Callable[[str], object]) -> None:
    with pytest.raises(PromptFileError, match="'xx'"):
        read("xx")
