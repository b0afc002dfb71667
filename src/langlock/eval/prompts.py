"""Evaluation prompts: the built-in Russian set, or the user's JSONL or CSV.

A CSV needs a ``prompt`` column; the Language Confusion Benchmark's test-set CSVs
(``prompt,source,language``) load as they are, ``source`` becoming the category.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class EvalPrompt:
    """One prompt of an evaluation set."""

    id: str
    category: str
    prompt: str
    demo: bool = False


class PromptFileError(ValueError):
    """A prompt file that cannot be used, with where and why."""


def builtin_prompts(lang: str = "ru", demo: bool = False) -> list[EvalPrompt]:
    """The built-in set for ``lang`` (only the demo subset when ``demo``).

    >>> prompts = builtin_prompts()
    >>> len(prompts) >= 150, len(builtin_prompts(demo=True))
    (True, 30)
    >>> sorted({p.category for p in prompts})
    ['english_instruction', 'everyday', 'long_form', 'technical', 'trap']
    """
    name = f"prompts_{lang}.jsonl"
    folder = resources.files("langlock") / "data" / "eval"
    if not (folder / name).is_file():
        raise PromptFileError(f"no built-in prompt set for {lang!r}; pass --prompts FILE")
    prompts = parse_prompt_lines((folder / name).read_text(encoding="utf-8").splitlines(), name)
    return [p for p in prompts if p.demo] if demo else prompts


def load_prompts(path: str | Path) -> list[EvalPrompt]:
    """Prompts from a JSONL (``prompt``, optional ``id``, ``category``) or CSV file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PromptFileError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise PromptFileError(f"{path}: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".csv":
        prompts = _from_csv(text, path.stem, str(path))
    else:
        prompts = parse_prompt_lines(text.splitlines(), str(path))
    if not prompts:
        raise PromptFileError(f"{path}: no prompts")
    ids = [p.id for p in prompts]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise PromptFileError(f"{path}: the id {duplicate!r} appears more than once")
    return prompts


def select_prompts(
    path: str | Path | None = None,
    *,
    lang: str = "ru",
    demo: bool = False,
    categories: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[EvalPrompt]:
    """The prompts an eval runs: from ``path`` (else the built-in set for ``lang``, only its
    demo subset when ``demo``), only ``categories`` when given, the first ``limit``.

    Raises ``PromptFileError`` for a bad file and ``ValueError`` when nothing is left.

    >>> [p.id for p in select_prompts(demo=True, categories=["trap"], limit=2)]
    ['trap-001', 'trap-002']
    """
    chosen = load_prompts(path) if path else builtin_prompts(lang, demo=demo)
    if categories:
        chosen = [p for p in chosen if p.category in categories]
    chosen = chosen[:limit] if limit else chosen
    if not chosen:
        raise ValueError("no prompts left to run (check --category)")
    return chosen


def parse_prompt_lines(lines: Iterable[str], where: str) -> list[EvalPrompt]:
    """Prompts from JSONL lines (``prompt``, optional ``id``, ``category``, ``demo``); blank
    lines are skipped, ``where`` names the source in a ``PromptFileError``.

    >>> parse_prompt_lines(['{"id": "a", "category": "x", "prompt": "Привет"}', ""], "f")
    [EvalPrompt(id='a', category='x', prompt='Привет', demo=False)]
    >>> parse_prompt_lines(['{"id": "a"}'], "f")
    Traceback (most recent call last):
    ...
    langlock.eval.prompts.PromptFileError: f:1: no 'prompt' field
    """
    prompts = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptFileError(f"{where}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not str(record.get("prompt") or "").strip():
            raise PromptFileError(f"{where}:{number}: no 'prompt' field")
        prompts.append(
            EvalPrompt(
                id=str(record.get("id") or f"p{number:04d}"),
                category=str(record.get("category") or "all"),
                prompt=str(record["prompt"]),
                demo=bool(record.get("demo", False)),
            )
        )
    return prompts


def _from_csv(text: str, stem: str, where: str) -> list[EvalPrompt]:
    rows = csv.DictReader(text.splitlines(keepends=True))
    if not rows.fieldnames or "prompt" not in rows.fieldnames:
        raise PromptFileError(f"{where}: a CSV needs a 'prompt' column")
    prompts = []
    for number, row in enumerate(rows, 1):
        prompt = (row.get("prompt") or "").strip()
        if not prompt:
            raise PromptFileError(f"{where}: row {number} has an empty prompt")
        category = row.get("category") or row.get("source") or stem
        prompts.append(EvalPrompt(row.get("id") or f"{stem}-{number:04d}", category, prompt))
    return prompts
