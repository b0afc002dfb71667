"""``langlock check`` and ``langlock fix``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar

import typer

from langlock.cli.inputs import (
    DEFAULT_MAX_BYTES,
    Fields,
    InputError,
    TextRecord,
    display_name,
    is_jsonl,
    iter_items,
    record_label,
)
from langlock.cli.options import (
    AllowOpt,
    ConfigOpt,
    FilesArg,
    IdFieldOpt,
    JsonlOpt,
    LangOpt,
    MaxBytesOpt,
    PresetName,
    PresetOpt,
    PromptFieldOpt,
    PromptOpt,
    QuietOpt,
    TextFieldOpt,
    broken_pipe_exits,
    build_policy,
    die,
    input_paths,
    stderr_console,
    stdout_binary,
)
from langlock.io import atomic_write, dumps, jsonl_line, visible
from langlock.text.findings import line_of, line_starts

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from langlock.policy import Policy
    from langlock.text.findings import Change, Finding, Fixed, Report

_SEVERITY_STYLE = {"major": "bold red", "minor": "yellow"}


class ReportFormat(StrEnum):
    """How ``check`` writes its results (``--format``)."""

    human = "human"
    json = "json"
    jsonl = "jsonl"


# -- tally -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Every record is accounted for: ``total == ok + failing + errors``."""

    ok: int = 0
    failing: int = 0
    errors: int = 0
    major: Counter[str] = field(default_factory=Counter)
    minor: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.ok + self.failing + self.errors

    def add(self, report: Report) -> None:
        if report.ok:
            self.ok += 1
        else:
            self.failing += 1
        for f in report.findings:
            (self.major if f.major else self.minor)[f.kind] += 1

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 1 if self.failing else 0

    def line(self) -> str:
        return (
            f"{self.total} records = {self.ok} ok + {self.failing} failing + {self.errors} errors"
        )


# -- check -----------------------------------------------------------------------------------


T = TypeVar("T")


def _run_check(record: TextRecord, policy: Policy) -> Report | InputError:
    """``langlock.check`` on one record; an unexpected failure becomes an error record."""
    import langlock

    return _guarded(langlock.check, record, policy, "checker")


class Emitter:
    """Writes results in one output format."""

    def record(self, record: TextRecord, report: Report) -> None:
        raise NotImplementedError

    def error(self, error: InputError) -> None:
        raise NotImplementedError

    def close(self, tally: Tally) -> None:
        pass


class JsonlEmitter(Emitter):
    """One JSON object per line: ``Report.to_dict(id)`` or ``{"id", "error"}``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def write(self, obj: dict[str, Any]) -> None:
        self.out.write(jsonl_line(obj))

    def record(self, record: TextRecord, report: Report) -> None:
        self.write(report.to_dict(record.id))

    def error(self, error: InputError) -> None:
        self.write(error.to_dict())

    def close(self, tally: Tally) -> None:
        self.out.flush()


class JsonEmitter(JsonlEmitter):
    """One JSON array of the same objects, streamed."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__(out)
        self.count = 0

    def write(self, obj: dict[str, Any]) -> None:
        self.out.write((b",\n" if self.count else b"[\n") + dumps(obj).encode("utf-8"))
        self.count += 1

    def close(self, tally: Tally) -> None:
        self.out.write(b"\n]\n" if self.count else b"[]\n")
        self.out.flush()


class HumanEmitter(Emitter):
    """Rich output: a header per record, each finding with its span highlighted, a summary."""

    def __init__(self, console: Console, quiet: bool, max_findings: int) -> None:
        self.console = console
        self.quiet = quiet
        self.max_findings = max_findings

    def record(self, record: TextRecord, report: Report) -> None:
        if self.quiet and not report.findings:
            return
        from rich.text import Text

        header = Text(record_label(record), style="bold")
        if report.ok:
            minor = len(report.findings)
            header.append("  ok", style="green")
            if minor:
                header.append(f" ({minor} minor)", style="yellow")
        else:
            major = sum(f.major for f in report.findings)
            header.append("  FAIL", style="bold red")
            header.append(f" ({major} major, {len(report.findings) - major} minor)")
        self.console.print(header)
        lines = report.text.split("\n")
        starts = line_starts(report.text)
        for finding in report.findings[: self.max_findings]:
            self.finding(finding, lines, starts)
        hidden = len(report.findings) - self.max_findings
        if hidden > 0:
            self.console.print(f"    … and {hidden} more findings", style="dim")

    def finding(self, finding: Finding, lines: list[str], starts: list[int]) -> None:
        from rich.text import Text

        style = _SEVERITY_STYLE.get(finding.severity, "bold")
        known = 0 < finding.line <= len(lines)
        line_text = lines[finding.line - 1] if known else ""
        line_start = starts[finding.line - 1] if known else finding.start
        column = finding.start - line_start
        title = Text(f"  {finding.line}:{column + 1}  ")
        title.append(finding.kind, style=style)
        title.append(f" ({finding.severity})  ")
        title.append(visible(finding.message))
        if finding.fix is not None:
            title.append("  fix: ", style="dim")
            title.append(visible(finding.fix) if finding.fix else "remove", style="green")
        self.console.print(title)
        self.console.print(span_in_line(line_text, column, finding.end - line_start, style))

    def error(self, error: InputError) -> None:
        self.console.print(f"error  {visible(error.message)}", style="bold red", markup=False)

    def close(self, tally: Tally) -> None:
        from rich.table import Table

        self.console.print()
        style = "green" if tally.exit_code == 0 else "bold red"
        self.console.print(tally.line(), style=style, markup=False)
        kinds = sorted(set(tally.major) | set(tally.minor))
        if kinds:
            table = Table("kind", "major", "minor", title="findings per kind")
            for kind in kinds:
                table.add_row(kind, str(tally.major[kind]), str(tally.minor[kind]))
            self.console.print(table)


def span_in_line(line: str, start: int, end: int, style: str, width: int = 100) -> Text:
    """The line around ``[start, end)`` (clipped to the line), with the span stylized.

    Long lines are cut to about ``width`` characters around the span.

    >>> t = span_in_line("это milestone здесь", 4, 13, "bold red")
    >>> t.plain, [(s.start, s.end) for s in t.spans]
    ('    это milestone здесь', [(8, 17)])
    """
    from rich.text import Text

    start = max(0, min(start, len(line)))
    end = max(start, min(end, len(line)))
    left = max(0, start - width // 2)
    right = min(len(line), max(end, left + width))
    before = ("…" if left else "") + visible(line[left:start])
    middle = visible(line[start:end])
    after = visible(line[end:right]) + ("…" if right < len(line) else "")
    text = Text("    " + before + middle + after)
    text.stylize(f"{style} reverse", 4 + len(before), 4 + len(before) + len(middle))
    return text


def check(
    files: FilesArg = None,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    allow: AllowOpt = None,
    config: ConfigOpt = None,
    prompt: PromptOpt = None,
    jsonl: JsonlOpt = False,
    text_field: TextFieldOpt = "text",
    prompt_field: PromptFieldOpt = "prompt",
    id_field: IdFieldOpt = "id",
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="human, json (one array) or jsonl.")
    ] = ReportFormat.human,
    max_findings: Annotated[
        int, typer.Option("--max-findings", min=0, help="Findings shown per record (human).")
    ] = 50,
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    quiet: QuietOpt = False,
) -> None:
    """Report language-discipline findings. Exit 0 clean, 1 findings, 2 bad input."""
    policy = build_policy(lang, preset.value, allow, config)
    paths = input_paths(files)
    fields = Fields(text_field, prompt_field, id_field)
    emitter = _emitter(output_format, quiet, max_findings)
    tally = Tally()
    items = iter_items(paths, jsonl=jsonl, fields=fields, prompt=prompt, max_bytes=max_bytes)
    with broken_pipe_exits():
        for item in items:
            outcome = _run_check(item, policy) if isinstance(item, TextRecord) else item
            if isinstance(outcome, InputError):
                tally.errors += 1
                emitter.error(outcome)
            elif isinstance(item, TextRecord):
                tally.add(outcome)
                emitter.record(item, outcome)
        emitter.close(tally)
    _note_empty(tally, paths)
    if output_format is not ReportFormat.human and not quiet:
        stderr_console().print(f"langlock check: {tally.line()}", markup=False)
    raise typer.Exit(tally.exit_code)


def _emitter(output_format: ReportFormat, quiet: bool, max_findings: int) -> Emitter:
    if output_format is ReportFormat.human:
        from rich.console import Console

        return HumanEmitter(Console(highlight=False, soft_wrap=True), quiet, max_findings)
    out = stdout_binary()
    return JsonEmitter(out) if output_format is ReportFormat.json else JsonlEmitter(out)


def _note_empty(tally: Tally, paths: list[str]) -> None:
    if tally.total == 0:
        names = ", ".join(display_name(p) for p in paths)
        stderr_console().print(f"langlock: no records in {names}", style="yellow", markup=False)


# -- fix -------------------------------------------------------------------------------------


@contextmanager
def _output(path: Path | None) -> Iterator[BinaryIO]:
    """Where ``fix`` writes: stdout (no ``-o``, or ``-o -``), or ``path``, replaced atomically
    when the run ends without error."""
    if path is None or str(path) == "-":
        out = stdout_binary()
        yield out
        out.flush()
        return
    with atomic_write(path) as out:
        yield out


def _explain(console: Console, record: TextRecord, changes: list[Change]) -> None:
    """Print each change: where, before → after, and why."""
    from rich.text import Text

    starts = line_starts(record.text)
    for change in changes:
        line = line_of(starts, change.start)
        column = change.start - starts[line - 1] + 1
        text = Text(f"{record_label(record)}  {line}:{column}  ")
        text.append(change.kind, style="bold")
        text.append("  ")
        text.append(visible(change.before), style="red")
        text.append(" → ")
        text.append(visible(change.after) if change.after else "(removed)", style="green")
        text.append(f"  ({visible(change.reason)})", style="dim")
        console.print(text)


def fix(
    files: FilesArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (atomically) instead of stdout."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print each change and its reason to stderr.")
    ] = False,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    allow: AllowOpt = None,
    config: ConfigOpt = None,
    prompt: PromptOpt = None,
    jsonl: JsonlOpt = False,
    text_field: TextFieldOpt = "text",
    prompt_field: PromptFieldOpt = "prompt",
    id_field: IdFieldOpt = "id",
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    quiet: QuietOpt = False,
) -> None:
    """Apply the certain fixes; write fixed text, or the same JSONL records with fixed text.

    Bad input is copied through unchanged and reported. Exit 0 when every record is clean
    after fixing, 1 when major findings remain, 2 when some input was bad.
    """
    policy = build_policy(lang, preset.value, allow, config)
    paths = input_paths(files)
    if len(paths) > 1 and not all(is_jsonl(p, jsonl) for p in paths):
        raise die("fix takes one plain-text file at a time (several JSONL files are fine)")
    fields = Fields(text_field, prompt_field, id_field)
    stderr = stderr_console()
    tally = Tally()
    changed = 0
    try:
        with broken_pipe_exits(), _output(output) as out:
            items = iter_items(
                paths,
                jsonl=jsonl,
                fields=fields,
                prompt=prompt,
                max_bytes=max_bytes,
                spill=out.write,
            )
            for item in items:
                result = _run_fix(item, policy) if isinstance(item, TextRecord) else item
                if isinstance(result, InputError):
                    tally.errors += 1
                    stderr.print(f"error  {visible(result.message)}", style="red", markup=False)
                    if result.raw is not None:
                        out.write(result.raw)
                    elif isinstance(item, TextRecord):  # the fixer failed: copy the text through
                        out.write(_fixed_bytes(item, item.text, fields))
                    continue
                assert isinstance(item, TextRecord)
                tally.add(result.remaining)
                changed += bool(result.changes)
                if explain:
                    _explain(stderr, item, result.changes)
                out.write(_fixed_bytes(item, result.text, fields))
    except OSError as exc:
        raise die(f"cannot write {output}: {exc.strerror or exc}") from None
    _note_empty(tally, paths)
    if not quiet:
        stderr.print(f"langlock fix: {tally.line()}; {changed} changed", markup=False)
    raise typer.Exit(tally.exit_code)


def _run_fix(record: TextRecord, policy: Policy) -> Fixed | InputError:
    """``langlock.fix`` on one record (a ``Fixed``), or an error record when it fails."""
    import langlock

    return _guarded(langlock.fix, record, policy, "fixer")


def _guarded(
    run: Callable[..., T], record: TextRecord, policy: Policy, what: str
) -> T | InputError:
    """``run`` on the record's text and prompt; any failure becomes an error record, so one
    bad record never stops a file."""
    try:
        return run(
            record.text,
            lang=policy.lang,
            preset=policy.preset.name,
            prompt=record.prompt,
            policy=policy,
        )
    except Exception as exc:
        return InputError(record.id, f"{record.where}: {what} failed: {type(exc).__name__}: {exc}")


def _fixed_bytes(record: TextRecord, text: str, fields: Fields) -> bytes:
    """The output bytes of one record: unchanged, its bytes as read; changed, the text
    itself or its JSONL object with the new text, with the record's BOM and line ending."""
    raw = record.raw
    if raw is not None and text == record.text:
        return raw
    bom = b"\xef\xbb\xbf" if raw is not None and raw.startswith(b"\xef\xbb\xbf") else b""
    if record.obj is None:
        return bom + text.encode("utf-8", errors="surrogatepass")
    obj = dict(record.obj)
    obj[fields.text] = text
    line = jsonl_line(obj).rstrip(b"\n")
    ending = raw[len(raw.rstrip(b"\r\n")) :] if raw is not None else b"\n"
    return bom + line + ending
