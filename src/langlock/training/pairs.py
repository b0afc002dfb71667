"""Preference pairs in TRL's conversational format, from the model's own slips.

For every training prompt the model answers under ``none`` and under ``frame+lock`` (an eval
run over the training prompts, so generation resumes after an interrupt). A pair is a
prompt whose unframed answer fails the checker (the rejected side, the model's own slip)
and whose framed and locked answer passes it and is not degenerate (the chosen side, the
frame removed from the prompt): training on it distils the frame and the lock into the
weights. Answers that pass unframed are kept as clean answers for the corruption recipes.

Every pair is checked again before it is written: chosen passes, rejected is flagged; the
rest are dropped and counted, never written.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langlock.eval.scoring import AnswerRecord
from langlock.policy import Policy
from langlock.text.check import check

#: The remedies the pairs are sampled under: the rejected side, then the chosen side.
REJECTED_STRATEGY = "none"
CHOSEN_STRATEGY = "frame+lock"
PAIR_STRATEGIES = (REJECTED_STRATEGY, CHOSEN_STRATEGY)

#: One preference record as the pairs JSONL holds it.
Pair = dict[str, Any]


@dataclass
class PairStats:
    """What became of every sampled prompt and every candidate pair."""

    prompts: int = 0
    answers: int = 0
    #: Prompts whose unframed answers all passed: no slip to learn from.
    no_slip: int = 0
    #: Prompts with a slip but no framed and locked answer that passes and is not degenerate.
    no_chosen: int = 0
    made: Counter[str] = field(default_factory=Counter)
    #: Pairs dropped at the final check, by reason.
    dropped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data (``asdict`` would turn a Counter into a count of its items).

        >>> stats = PairStats(prompts=2)
        >>> stats.made["foreign_word"] += 1
        >>> stats.as_dict()["made"], stats.as_dict()["pairs"]
        ({'foreign_word': 1}, 1)
        """
        return {
            "prompts": self.prompts,
            "answers": self.answers,
            "no_slip": self.no_slip,
            "no_chosen": self.no_chosen,
            "made": dict(self.made),
            "pairs": sum(self.made.values()),
            "dropped": dict(self.dropped),
        }


def conversation(prompt: str, chosen: str, rejected: str) -> dict[str, list[dict[str, str]]]:
    """TRL's conversational preference format for one prompt.

    >>> conversation("Q?", "Да.", "Yes.")["rejected"]
    [{'role': 'assistant', 'content': 'Yes.'}]
    """
    return {
        "prompt": [{"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


#: Where a sentence may end, for cutting an answer that ran out of tokens.
_SENTENCE_END = re.compile(r"[.!?…](?:[»\")\]]*)(?=\s|$)|\n")


def finished_text(answer: str, finish: str | None) -> str:
    """An answer cut by the token limit ends at its last sentence end (a pair's sides end
    the turn, so a half sentence would teach the model to stop mid-word); an answer that
    ended by itself, or has no sentence end, stays as it is.

    >>> finished_text("Первое. Второе предложение об", "length")
    'Первое.'
    >>> finished_text("Первое. Второе", "stop")
    'Первое. Второе'
    """
    if finish != "length":
        return answer
    ends = [m.end() for m in _SENTENCE_END.finditer(answer)]
    return answer[: ends[-1]].rstrip() if ends and answer[: ends[-1]].strip() else answer


def slip_kind(record: AnswerRecord) -> str:
    """The kind a rejected answer is tagged with: its first major finding, or ``degenerate``.

    >>> slip_kind({"findings": [{"kind": "invisible", "severity": "minor"},
    ...                         {"kind": "wrong_language", "severity": "major"}]})
    'wrong_language'
    """
    for finding in record.get("findings", []):
        if finding["severity"] == "major":
            return str(finding["kind"])
    return "degenerate"


def model_pairs(records: Iterable[AnswerRecord], stats: PairStats) -> Iterator[Pair]:
    """Pairs of one prompt's unframed slips with its passing framed+locked answers,
    sample by sample (both lists in sample order, so reruns pair the same answers)."""
    by_prompt: dict[str, dict[str, list[AnswerRecord]]] = {}
    for record in records:
        if record.get("error") is None:
            by_prompt.setdefault(record["id"], {}).setdefault(record["strategy"], []).append(record)
    for prompt_id, answers in by_prompt.items():
        stats.prompts += 1
        stats.answers += sum(len(a) for a in answers.values())
        slips = [r for r in _in_order(answers.get(REJECTED_STRATEGY, [])) if not r["ok"]]
        good = [
            r
            for r in _in_order(answers.get(CHOSEN_STRATEGY, []))
            if r["ok"] and not r["degenerate"]
        ]
        if not slips:
            stats.no_slip += 1
            continue
        if not good:
            stats.no_chosen += 1
            continue
        for rejected, chosen in zip(slips, good, strict=False):
            kind = slip_kind(rejected)
            stats.made[kind] += 1
            yield conversation(rejected["prompt"], _finished(chosen), _finished(rejected)) | {
                "kind": kind,
                "source": "model",
                "id": f"{prompt_id}/{rejected['sample']}",
                "provenance": {
                    "prompt_id": prompt_id,
                    "category": rejected.get("category"),
                    "rejected": _origin(rejected),
                    "chosen": _origin(chosen),
                },
            }


def clean_answers(records: Iterable[AnswerRecord]) -> Iterator[tuple[str, str, str]]:
    """(prompt id, prompt, answer) of every unframed answer that passes and is not
    degenerate: the model's own clean Russian, for the corruption recipes."""
    for record in records:
        if (
            record.get("error") is None
            and record["strategy"] == REJECTED_STRATEGY
            and record["ok"]
            and not record["degenerate"]
        ):
            yield record["id"], record["prompt"], _finished(record)


def verified(pairs: Iterable[Pair], policy: Policy, stats: PairStats) -> Iterator[Pair]:
    """The pairs whose chosen side passes the checker and whose rejected side it flags,
    checked afresh here; the others are counted in ``stats.dropped`` and left out."""
    for pair in pairs:
        prompt = pair["prompt"][-1]["content"]
        chosen = pair["chosen"][-1]["content"]
        rejected = pair["rejected"][-1]["content"]
        if chosen == rejected:
            stats.dropped["identical sides"] += 1
        elif not check(chosen, policy=policy, prompt=prompt).ok:
            stats.dropped["chosen fails the checker"] += 1
        elif check(rejected, policy=policy, prompt=prompt).ok:
            stats.dropped["rejected passes the checker"] += 1
        else:
            yield pair


def read_pairs(path: Path) -> list[Pair]:
    """The pairs of a JSONL written by ``langlock pairs`` (or any TRL preference JSONL with
    conversational or plain-text sides). Raises ``ValueError`` naming the line at fault."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            pair = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        missing = [k for k in ("prompt", "chosen", "rejected") if k not in pair]
        if not isinstance(pair, dict) or missing:
            raise ValueError(f"{path}:{number}: a pair needs prompt, chosen and rejected")
        pairs.append(pair)
    if not pairs:
        raise ValueError(f"{path}: no pairs")
    return pairs


def _finished(record: AnswerRecord) -> str:
    return finished_text(record["answer"], record.get("finish"))


def _in_order(records: list[AnswerRecord]) -> list[AnswerRecord]:
    return sorted(records, key=lambda r: r["sample"])


def _origin(record: AnswerRecord) -> dict[str, Any]:
    return {
        "strategy": record["strategy"],
        "sample": record["sample"],
        "seed": record["seed"],
        "finish": record.get("finish"),
        "run": record["run"],
    }
