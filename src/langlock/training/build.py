"""``langlock pairs`` as a library call: sample the model on the training prompts, make pairs
from its slips and from corruptions of its clean answers, check them all, write them.

The answers are an eval run (``none`` and ``frame+lock`` over the training prompts) in the
work folder, so an interrupted sampling resumes and a second build with other recipes
reuses every answer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from langlock.eval.backends import Backend
from langlock.eval.prompts import EvalPrompt, builtin_prompts
from langlock.eval.runner import EvalRun, start_run
from langlock.eval.scoring import AnswerRecord
from langlock.io import AtomicFiles, jsonl_line
from langlock.policy import policy_for
from langlock.training.pairs import (
    PAIR_STRATEGIES,
    Pair,
    PairStats,
    clean_answers,
    model_pairs,
    verified,
)


class PairSource(StrEnum):
    """Where pairs come from: the model's own slips, or corruptions of clean answers."""

    model = "model"
    corruption = "corruption"


@dataclass(frozen=True)
class PairsSettings:
    lang: str = "ru"
    preset: str = "standard"
    lock_preset: str = "strict"
    samples: int = 1
    temperature: float = 0.7
    max_tokens: int = 96
    seed: int = 0
    sources: tuple[PairSource, ...] = (PairSource.model, PairSource.corruption)
    #: Corruption kinds to apply (None: every recipe), one pair per clean answer and kind.
    kinds: tuple[str, ...] | None = None


def balanced(prompts: Sequence[EvalPrompt], limit: int | None) -> list[EvalPrompt]:
    """The first ``limit`` prompts taken in turn from each category (all when None), so a
    small run still sees every kind of prompt.

    >>> ps = [EvalPrompt(f"{c}{i}", c, "?") for c in "ab" for i in range(3)]
    >>> [p.id for p in balanced(ps, 4)]
    ['a0', 'b0', 'a1', 'b1']
    """
    if limit is None:
        return list(prompts)
    queues: dict[str, list[EvalPrompt]] = {}
    for prompt in prompts:
        queues.setdefault(prompt.category, []).append(prompt)
    order = [
        q[i]
        for i in range(max(map(len, queues.values()), default=0))
        for q in queues.values()
        if i < len(q)
    ]
    return order[:limit]


def disjoint_prompts(
    prompts: Sequence[EvalPrompt], lang: str
) -> tuple[list[EvalPrompt], list[str]]:
    """The prompts that overlap no built-in eval prompt, and the ids of those that do (a
    model trained on the eval's prompts would be measured on what it was taught)."""
    from langlock.training.prompts import overlapping_prompts

    try:
        evaluation = builtin_prompts(lang)
    except ValueError:  # no built-in eval set for this language: nothing to overlap
        return list(prompts), []
    overlapping = {train_id for train_id, _ in overlapping_prompts(list(prompts), evaluation)}
    return [p for p in prompts if p.id not in overlapping], sorted(overlapping)


def sampling_run(
    backend: Backend, prompts: Sequence[EvalPrompt], work_dir: Path, settings: PairsSettings
) -> EvalRun:
    """The eval run that samples ``none`` and ``frame+lock`` answers (nothing run yet)."""
    return start_run(
        backend,
        prompts,
        work_dir,
        remedies=list(PAIR_STRATEGIES),
        lang=settings.lang,
        preset=settings.preset,
        lock_preset=settings.lock_preset,
        temperature=settings.temperature,
        samples=settings.samples,
        seed=settings.seed,
        max_tokens=settings.max_tokens,
    )


def make_pairs(
    records: Sequence[AnswerRecord], settings: PairsSettings
) -> tuple[list[Pair], dict[str, Any]]:
    """Pairs from scored answers, every one checked again, and the stats of what was made,
    dropped and why."""
    policy = policy_for(settings.lang, settings.preset)
    stats = PairStats()
    candidates: list[Pair] = []
    if PairSource.model in settings.sources:
        candidates += model_pairs(records, stats)
    corruption: dict[str, Any] = {}
    if PairSource.corruption in settings.sources:
        made, corruption = corrupted_pairs(records, settings)
        candidates += made
    pairs = list(verified(candidates, policy, stats))
    by_kind: dict[str, int] = {}
    for pair in pairs:
        key = f"{pair['source']}/{pair['kind']}"
        by_kind[key] = by_kind.get(key, 0) + 1
    summary = {
        "pairs": len(pairs),
        "candidates": len(candidates),
        "by_source_kind": dict(sorted(by_kind.items())),
        "model": stats.as_dict(),
        "corruption": corruption,
        "checked": {
            "chosen_pass": len(pairs),
            "rejected_flagged": len(pairs),
            "dropped": dict(stats.dropped),
        },
        "settings": {k: v for k, v in settings.__dict__.items() if k != "sources"}
        | {"sources": [str(s) for s in settings.sources]},
    }
    return pairs, summary


def corrupted_pairs(
    records: Sequence[AnswerRecord], settings: PairsSettings
) -> tuple[list[Pair], dict[str, Any]]:
    """Corruption-recipe pairs over the model's clean unframed answers."""
    from langlock.training.corrupt import RECIPES, corrupt_pairs

    kinds = list(settings.kinds or RECIPES)
    answers = [
        ([{"role": "user", "content": prompt}], answer)
        for _, prompt, answer in clean_answers(records)
    ]
    made, stats = corrupt_pairs(
        answers, kinds=kinds, rng_seed=settings.seed, lang=settings.lang, preset=settings.preset
    )
    return list(made), _as_plain(stats)


def write_pairs(path: Path, pairs: Sequence[Pair], summary: dict[str, Any]) -> Path:
    """The pairs JSONL and its stats (``<name>.stats.json``), both written atomically."""
    stats_path = path.with_name(path.stem + ".stats.json")
    files = AtomicFiles(make_folders=True)
    pairs_temp, stats_temp = files.temp_for(path), files.temp_for(stats_path)
    try:
        with pairs_temp.open("wb") as out:
            for pair in pairs:
                out.write(jsonl_line(pair))
        stats_temp.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
        files.commit()  # both or neither
    except BaseException:
        files.discard()
        raise
    return stats_path


def shuffled(pairs: list[Pair], seed: int) -> list[Pair]:
    """The pairs in a seeded order, so a run's batches mix sources and kinds."""
    order = list(pairs)
    random.Random(seed).shuffle(order)
    return order


def build_pairs(
    backend: Backend,
    prompts: Sequence[EvalPrompt],
    out: Path,
    settings: PairsSettings = PairsSettings(),
    work_dir: Path | None = None,
    on_answer: Callable[[AnswerRecord], None] | None = None,
) -> tuple[Path, dict[str, Any], bool]:
    """Sample, pair, check and write; returns the stats path, the stats, and whether the
    sampling completed (False after Ctrl-C: the pairs written are those of the answers so far)."""
    work_dir = work_dir or out.with_name(out.stem + "-answers")
    run = sampling_run(backend, prompts, work_dir, settings)
    complete = run.execute(on_answer)
    wanted = {p.id for p in prompts}  # the folder may hold answers of other prompts
    pairs, summary = make_pairs([r for r in run.records() if r["id"] in wanted], settings)
    summary["answers_folder"] = str(work_dir)
    summary["complete"] = complete
    stats_path = write_pairs(out, shuffled(pairs, settings.seed), summary)
    return stats_path, summary, complete


def _as_plain(stats: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(stats) and not isinstance(stats, type):
        return asdict(stats)
    return dict(stats)
