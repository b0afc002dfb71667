"""Training prompts and a held-out text, kept apart from the evaluation set.

The training set (``data/train/prompts_<lang>.jsonl``) has the eval set's schema and
categories, but none of its prompts equals or nearly repeats an eval prompt: tuning on
the eval prompts would make the eval measure memory instead of discipline.
``overlapping_prompts`` is that rule, usable on any pair of prompt lists (a user's own
training prompts against the eval set, say). The held-out text
(``data/train/heldout_<lang>.txt``) is clean prose that training never sees, for a
perplexity check before and after tuning.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable

from langlock.eval.prompts import EvalPrompt, PromptFileError, parse_prompt_lines

#: Word-set Jaccard similarity at or above which two prompts count as near-duplicates.
NEAR_DUPLICATE = 0.6


def training_prompts(lang: str = "ru") -> list[EvalPrompt]:
    """The built-in training prompts for ``lang``.

    Raises ``PromptFileError`` when ``lang`` has no training set.

    >>> prompts = training_prompts()
    >>> len(prompts) >= 500, prompts[0].id
    (True, 'train-everyday-001')
    >>> sorted({p.category for p in prompts})
    ['english_instruction', 'everyday', 'long_form', 'technical']
    """
    name = f"prompts_{lang}.jsonl"
    path = _train_file(name, lang, "training prompt set")
    return parse_prompt_lines(path.read_text(encoding="utf-8").splitlines(), name)


def heldout_text(lang: str = "ru") -> list[str]:
    """The held-out paragraphs for ``lang`` (blank-line separated in the data file).

    Raises ``PromptFileError`` when ``lang`` has no held-out text.

    >>> paragraphs = heldout_text()
    >>> len(paragraphs) >= 25, all("\\n\\n" not in p for p in paragraphs)
    (True, True)
    """
    path = _train_file(f"heldout_{lang}.txt", lang, "held-out text")
    return split_paragraphs(path.read_text(encoding="utf-8"))


def split_paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text``: runs of non-blank lines, each joined by single spaces.

    >>> split_paragraphs("Первый абзац,\\nего продолжение.\\n\\n\\n  Второй.  \\n")
    ['Первый абзац, его продолжение.', 'Второй.']
    """
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def normalize(text: str) -> str:
    """``text`` case-folded, punctuation turned into spaces, whitespace collapsed.

    >>> normalize("  Как  сварить ГРЕЧКУ?! «Быстро»… ")
    'как сварить гречку быстро'
    >>> normalize("POST-запрос") == normalize("post запрос")
    True
    """
    kept = (" " if unicodedata.category(c).startswith("P") else c for c in text.casefold())
    return " ".join("".join(kept).split())


def jaccard(first: str, second: str) -> float:
    """Jaccard similarity of the word sets of two texts after ``normalize``.

    >>> jaccard("Почему небо голубое?", "почему НЕБО голубое")
    1.0
    >>> round(jaccard("Почему небо голубое?", "Почему небо серое?"), 2)
    0.5
    >>> jaccard("", "слово")
    0.0
    """
    a, b = set(normalize(first).split()), set(normalize(second).split())
    return len(a & b) / len(a | b) if a and b else 0.0


def overlapping_prompts(
    train: Sequence[EvalPrompt],
    evaluation: Sequence[EvalPrompt],
    threshold: float = NEAR_DUPLICATE,
) -> list[tuple[str, str]]:
    """``(train id, evaluation id)`` for each pair of prompts that are equal after
    ``normalize`` or whose word sets have a Jaccard similarity of at least ``threshold``.

    Pass one list twice to find duplicates inside it (a prompt is never paired with
    itself, and each unordered pair appears once).

    >>> train = [EvalPrompt("t1", "x", "Почему небо — голубое?!"),
    ...          EvalPrompt("t2", "x", "Как сварить рассыпчатую гречку на воде?")]
    >>> evaluation = [EvalPrompt("e1", "x", "почему небо голубое"),
    ...               EvalPrompt("e2", "x", "Как сварить рассыпчатую гречку?")]
    >>> overlapping_prompts(train, evaluation)
    [('t1', 'e1'), ('t2', 'e2')]
    >>> overlapping_prompts(train, evaluation, threshold=0.9)
    [('t1', 'e1')]
    >>> overlapping_prompts(train, train)
    []
    """
    same = train is evaluation
    words = [set(normalize(p.prompt).split()) for p in evaluation]
    texts = [normalize(p.prompt) for p in evaluation]
    pairs = []
    for i, prompt in enumerate(train):
        text = normalize(prompt.prompt)
        mine = set(text.split())
        for j, other in enumerate(evaluation):
            if same and j <= i:
                continue
            union = mine | words[j]
            similar = bool(union) and len(mine & words[j]) / len(union) >= threshold
            if text == texts[j] or similar:
                pairs.append((prompt.id, other.id))
    return pairs


def _train_file(name: str, lang: str, what: str) -> Traversable:
    path = resources.files("langlock") / "data" / "train" / name
    if not path.is_file():
        raise PromptFileError(f"no built-in {what} for {lang!r}")
    return path
