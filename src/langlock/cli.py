"""The ``langlock`` command: check and fix answers, score the checker on the dev set.

Input is plain text (a whole file is one record) or JSONL (by ``.jsonl`` extension or
``--jsonl``) with ``text`` and optional ``id`` and ``prompt`` fields. ``-`` (or no file)
reads stdin. Bad input never stops a run: each bad file or line becomes an error record,
the rest is processed, and the exit status is 2 at the end.

Exit status: 0 every record clean, 1 some record has a major finding, 2 some input was bad.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar

import regex
import typer

from langlock.text.findings import line_of, line_starts

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from langlock.policy import Policy
    from langlock.text.devset import DevsetResult
    from langlock.text.findings import Change, Finding, Fixed, Report

app = typer.Typer(
    name="langlock",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: Records larger than this many bytes (a JSONL line, a whole text file) are input errors.
DEFAULT_MAX_BYTES = 10_000_000
_CHUNK = 1 << 20
_SURROGATE = regex.compile(r"[\ud800-\udfff]")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SEVERITY_STYLE = {"major": "bold red", "minor": "yellow"}


class Format(StrEnum):
    human = "human"
    json = "json"
    jsonl = "jsonl"


class PresetName(StrEnum):
    strict = "strict"
    standard = "standard"
    lenient = "lenient"


# -- records ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fields:
    """JSONL field names."""

    text: str = "text"
    prompt: str = "prompt"
    id: str = "id"


@dataclass(slots=True)
class Record:
    """One text to check: a whole plain file or one JSONL object."""

    id: Any
    text: str
    prompt: str | None
    where: str  # "answers.jsonl:12" or "answer.txt", for messages
    obj: dict[str, Any] | None = None  # the JSONL object (fix writes it back)


@dataclass(slots=True)
class InputError:
    """A file or line that could not become a record; ``raw`` is kept for ``fix``."""

    id: Any
    message: str
    raw: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "error": self.message}


Item = Record | InputError


def record_label(record: Record) -> str:
    """Where a record came from, with its id when that says more.

    >>> record_label(Record(7, "", None, "a.jsonl:3"))
    'a.jsonl:3 (id 7)'
    >>> record_label(Record("a.txt", "", None, "a.txt"))
    'a.txt'
    """
    if record.id == record.where:
        return visible(record.where)
    return f"{visible(record.where)} (id {visible(str(record.id))})"


def _display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def is_jsonl(path: str, force: bool) -> bool:
    """JSONL when forced or when the name ends in ``.jsonl``.

    >>> is_jsonl("a.JSONL", False), is_jsonl("a.txt", False), is_jsonl("-", True)
    (True, False, True)
    """
    return force or path.lower().endswith(".jsonl")


@contextmanager
def _open_binary(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdin.buffer
    else:
        with open(path, "rb") as stream:
            yield stream


def _utf8_error(exc: UnicodeDecodeError) -> str:
    return f"invalid UTF-8 at byte {exc.start} ({exc.reason})"


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def iter_items(
    paths: Iterable[str],
    *,
    jsonl: bool,
    fields: Fields,
    prompt: str | None,
    max_bytes: int,
    spill: Callable[[bytes], None] | None = None,
) -> Iterator[Item]:
    """Records and input errors from every path, in order, streaming JSONL line by line.

    ``spill`` receives the bytes of oversized records as they are skipped (``fix`` copies
    them through unchanged).
    """
    for path in paths:
        name = _display_name(path)
        try:
            with _open_binary(path) as stream:
                if is_jsonl(path, jsonl):
                    yield from iter_jsonl(stream, name, fields, prompt, max_bytes, spill)
                else:
                    yield read_plain(stream, name, prompt, max_bytes, spill)
        except OSError as exc:
            yield InputError(name, f"{name}: cannot read: {exc.strerror or exc}")


def read_plain(
    stream: BinaryIO,
    name: str,
    prompt: str | None,
    max_bytes: int,
    spill: Callable[[bytes], None] | None = None,
) -> Item:
    """A whole plain-text file as one record (an empty file is an empty, clean record)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        size, _ = _drain(stream, spill, data, to_eof=True)
        return InputError(name, f"{name}: {size} bytes is over --max-bytes {max_bytes}")
    try:
        text = _strip_bom(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(name, f"{name}: {_utf8_error(exc)}", data)
    return Record(name, text, prompt, name)


def _drain(
    stream: BinaryIO, spill: Callable[[bytes], None] | None, head: bytes, to_eof: bool = False
) -> tuple[int, bytes]:
    """Skip the rest of an oversized record: to EOF, or to the end of the line.

    Returns the record's size in bytes and its last chunk; every chunk, ``head`` first,
    goes to ``spill`` when given.
    """
    size, chunk = 0, head
    while chunk:
        size += len(chunk)
        if spill:
            spill(chunk)
        if not to_eof and chunk.endswith(b"\n"):
            break
        last = chunk
        chunk = stream.read(_CHUNK) if to_eof else stream.readline(_CHUNK)
        if not chunk:
            return size, last
    return size, chunk


def iter_jsonl(
    stream: BinaryIO,
    name: str,
    fields: Fields,
    prompt: str | None,
    max_bytes: int,
    spill: Callable[[bytes], None] | None = None,
) -> Iterator[Item]:
    """One record or input error per non-blank line; lines over ``max_bytes`` are errors."""
    number = 0
    while raw := stream.readline(max_bytes + 1):
        number += 1
        where = f"{name}:{number}"
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            size, last = _drain(stream, spill, raw)
            if spill and not last.endswith(b"\n"):
                spill(b"\n")
            yield InputError(None, f"{where}: line of {size} bytes is over --max-bytes {max_bytes}")
            continue
        if number == 1:
            raw = _strip_bom(raw)
        if not raw.endswith(b"\n"):
            raw += b"\n"  # so a line copied through by ``fix`` keeps its line end
        if raw.strip():
            yield parse_jsonl_line(raw, where, fields, prompt)


def parse_jsonl_line(raw: bytes, where: str, fields: Fields, prompt: str | None) -> Item:
    """Turn one JSONL line into a record, or an error naming the file and line.

    >>> parse_jsonl_line(b'{"id": 7, "text": "hi"}', "a.jsonl:1", Fields(), None).id
    7
    >>> parse_jsonl_line(b'{"text": 5}', "a.jsonl:2", Fields(), None).message
    'a.jsonl:2: field "text" is not a string (got int)'
    """
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(None, f"{where}: {_utf8_error(exc)}", raw)
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return InputError(None, f"{where}: malformed JSON: {exc.msg} (column {exc.colno})", raw)
    except RecursionError:
        return InputError(None, f"{where}: malformed JSON: nested too deeply", raw)
    if not isinstance(obj, dict):
        return InputError(None, f"{where}: expected a JSON object, got {_json_type(obj)}", raw)
    record_id = obj.get(fields.id, where)
    text = obj.get(fields.text)
    if fields.text not in obj:
        return InputError(record_id, f'{where}: missing field "{fields.text}"', raw)
    if not isinstance(text, str):
        message = f'{where}: field "{fields.text}" is not a string (got {_json_type(text)})'
        return InputError(record_id, message, raw)
    record_prompt = obj.get(fields.prompt, prompt)
    if record_prompt is not None and not isinstance(record_prompt, str):
        got = _json_type(record_prompt)
        message = f'{where}: field "{fields.prompt}" is not a string (got {got})'
        return InputError(record_id, message, raw)
    return Record(record_id, text, record_prompt, where, obj)


def _json_type(value: Any) -> str:
    """JSON-ish type name.

    >>> _json_type(None), _json_type([1]), _json_type(2.5)
    ('null', 'array', 'float')
    """
    names = {type(None): "null", list: "array", dict: "object", bool: "bool"}
    return names.get(type(value), type(value).__name__)


# -- output helpers --------------------------------------------------------------------------


def dumps(obj: Any) -> str:
    """Compact UTF-8 JSON; lone surrogates become ``\\udXXX`` escapes so it stays encodable.

    >>> dumps({"t": "я\\ud800"})
    '{"t": "я\\\\ud800"}'
    """
    out = json.dumps(obj, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def visible(text: str) -> str:
    """Text safe to print: invisible and control characters become ``⟨U+XXXX⟩``.

    Tabs stay; lone surrogates and other unprintable code points are shown by number.

    >>> visible("при\\u200bвет\\t!")
    'при⟨U+200B⟩вет\\t!'
    """
    return "".join(
        f"⟨U+{ord(ch):04X}⟩" if ch != "\t" and unicodedata.category(ch) in _HIDDEN else ch
        for ch in text
    )


def _stdout_binary() -> BinaryIO:
    sys.stdout.flush()
    return sys.stdout.buffer


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _die(message: str) -> typer.Exit:
    """Print an error to stderr and return the Exit(2) to raise."""
    _stderr_console().print(f"langlock: {message}", style="bold red", markup=False)
    return typer.Exit(2)


def _build_policy(lang: str, preset: str, allow: list[str] | None, config: Path | None) -> Policy:
    try:
        from langlock.policy import Policy

        return Policy.from_options(lang=lang, preset=preset, allow=allow or (), config=config)
    except (ValueError, OSError) as exc:
        raise _die(str(exc)) from None


@contextmanager
def _broken_pipe_exits() -> Iterator[None]:
    """Stop quietly when the reader of stdout goes away (``langlock check … | head``)."""
    try:
        yield
    except BrokenPipeError:
        # Keep Python from complaining again when it flushes stdout at exit.
        with suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None


def _paths(files: list[str] | None) -> list[str]:
    if files:
        return files
    if sys.stdin.isatty():
        raise _die("no input: give FILES or '-' (or pipe text into stdin)")
    return ["-"]


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


def _run_check(record: Record, policy: Policy) -> Report | InputError:
    """``langlock.check`` on one record; an unexpected failure becomes an error record."""
    import langlock

    return _guarded(langlock.check, record, policy, "checker")


class Emitter:
    """Writes results in one output format."""

    def record(self, record: Record, report: Report) -> None:
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
        self.out.write(dumps(obj).encode("utf-8") + b"\n")

    def record(self, record: Record, report: Report) -> None:
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

    def record(self, record: Record, report: Report) -> None:
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


# -- shared options --------------------------------------------------------------------------

FilesArg = Annotated[
    list[str] | None,
    typer.Argument(help="Text or JSONL files; '-' or nothing reads stdin.", show_default=False),
]
LangOpt = Annotated[str, typer.Option("--lang", help="Target language code.")]
PresetOpt = Annotated[PresetName, typer.Option("--preset", help="How strict to be.")]
AllowOpt = Annotated[
    list[str] | None,
    typer.Option("--allow", help="Name or term that is never a finding (repeatable)."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML file with lang, preset, allow.")
]
PromptOpt = Annotated[
    str | None, typer.Option("--prompt", help="The prompt (for plain text, or JSONL default).")
]
JsonlOpt = Annotated[bool, typer.Option("--jsonl", help="Read every input (stdin too) as JSONL.")]
TextFieldOpt = Annotated[str, typer.Option("--text-field", help="JSONL field with the answer.")]
PromptFieldOpt = Annotated[str, typer.Option("--prompt-field", help="JSONL field with the prompt.")]
IdFieldOpt = Annotated[str, typer.Option("--id-field", help="JSONL field with the record id.")]
MaxBytesOpt = Annotated[
    int,
    typer.Option("--max-bytes", min=1, help="Larger records (a JSONL line, a file) are errors."),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Hide clean records and the stderr summary.")
]


@app.callback()
def main() -> None:
    """Keep LLM answers in one language: check, fix, and score against the dev set."""


@app.command()
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
        Format, typer.Option("--format", "-f", help="human, json (one array) or jsonl.")
    ] = Format.human,
    max_findings: Annotated[
        int, typer.Option("--max-findings", min=0, help="Findings shown per record (human).")
    ] = 50,
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    quiet: QuietOpt = False,
) -> None:
    """Report language-discipline findings. Exit 0 clean, 1 findings, 2 bad input."""
    policy = _build_policy(lang, preset.value, allow, config)
    paths = _paths(files)
    fields = Fields(text_field, prompt_field, id_field)
    emitter = _emitter(output_format, quiet, max_findings)
    tally = Tally()
    items = iter_items(paths, jsonl=jsonl, fields=fields, prompt=prompt, max_bytes=max_bytes)
    with _broken_pipe_exits():
        for item in items:
            outcome = _run_check(item, policy) if isinstance(item, Record) else item
            if isinstance(outcome, InputError):
                tally.errors += 1
                emitter.error(outcome)
            elif isinstance(item, Record):
                tally.add(outcome)
                emitter.record(item, outcome)
        emitter.close(tally)
    _note_empty(tally, paths)
    if output_format is not Format.human and not quiet:
        _stderr_console().print(f"langlock check: {tally.line()}", markup=False)
    raise typer.Exit(tally.exit_code)


def _emitter(output_format: Format, quiet: bool, max_findings: int) -> Emitter:
    if output_format is Format.human:
        from rich.console import Console

        return HumanEmitter(Console(highlight=False, soft_wrap=True), quiet, max_findings)
    out = _stdout_binary()
    return JsonEmitter(out) if output_format is Format.json else JsonlEmitter(out)


def _note_empty(tally: Tally, paths: list[str]) -> None:
    if tally.total == 0:
        names = ", ".join(_display_name(p) for p in paths)
        _stderr_console().print(f"langlock: no records in {names}", style="yellow", markup=False)


# -- fix -------------------------------------------------------------------------------------


@contextmanager
def atomic_output(path: Path | None) -> Iterator[BinaryIO]:
    """A binary stream for the output: stdout, or a temp file renamed onto ``path`` at the end.

    The temp file sits in the same folder so ``os.replace`` is atomic; on failure it is
    removed and ``path`` is untouched. An existing file's permissions are kept.
    """
    if path is None or str(path) == "-":
        out = _stdout_binary()
        yield out
        out.flush()
        return
    folder = path.resolve().parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, _target_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _target_mode(path: Path) -> int:
    """Permissions for the output: the existing file's, else 0o666 minus the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _explain(console: Console, record: Record, changes: list[Change]) -> None:
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


@app.command()
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
    policy = _build_policy(lang, preset.value, allow, config)
    paths = _paths(files)
    if len(paths) > 1 and not all(is_jsonl(p, jsonl) for p in paths):
        raise _die("fix takes one plain-text file at a time (several JSONL files are fine)")
    fields = Fields(text_field, prompt_field, id_field)
    stderr = _stderr_console()
    tally = Tally()
    changed = 0
    try:
        with _broken_pipe_exits(), atomic_output(output) as out:
            items = iter_items(
                paths,
                jsonl=jsonl,
                fields=fields,
                prompt=prompt,
                max_bytes=max_bytes,
                spill=out.write,
            )
            for item in items:
                result = _run_fix(item, policy) if isinstance(item, Record) else item
                if isinstance(result, InputError):
                    tally.errors += 1
                    stderr.print(f"error  {visible(result.message)}", style="red", markup=False)
                    if result.raw is not None:
                        out.write(result.raw)
                    elif isinstance(item, Record):  # the fixer failed: copy the text through
                        out.write(_fixed_bytes(item, item.text, fields))
                    continue
                assert isinstance(item, Record)
                tally.add(result.remaining)
                changed += bool(result.changes)
                if explain:
                    _explain(stderr, item, result.changes)
                out.write(_fixed_bytes(item, result.text, fields))
    except OSError as exc:
        raise _die(f"cannot write {output}: {exc.strerror or exc}") from None
    _note_empty(tally, paths)
    if not quiet:
        stderr.print(f"langlock fix: {tally.line()}; {changed} changed", markup=False)
    raise typer.Exit(tally.exit_code)


def _run_fix(record: Record, policy: Policy) -> Fixed | InputError:
    """``langlock.fix`` on one record (a ``Fixed``), or an error record when it fails."""
    import langlock

    return _guarded(langlock.fix, record, policy, "fixer")


def _guarded(run: Callable[..., T], record: Record, policy: Policy, what: str) -> T | InputError:
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


def _fixed_bytes(record: Record, text: str, fields: Fields) -> bytes:
    """The output bytes of one record: the text itself, or its JSONL object with new text."""
    if record.obj is None:
        return text.encode("utf-8", errors="surrogatepass")
    obj = dict(record.obj)
    obj[fields.text] = text
    return dumps(obj).encode("utf-8") + b"\n"


# -- devset ----------------------------------------------------------------------------------


@app.command()
def devset(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Dev set JSONL (default: shared/devset/answers.jsonl).", show_default=False
        ),
    ] = None,
    preset: PresetOpt = PresetName.standard,
    show_errors: Annotated[
        int, typer.Option("--show-errors", min=0, help="Print N false positives and negatives.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="Also score the naive baselines.")
    ] = True,
) -> None:
    """Score the checker on the hand-labelled dev set, next to naive baselines."""
    from langlock.text import devset as ds

    try:
        result = ds.evaluate(path, preset=preset.value, baselines=baselines)
    except ds.DevsetError as exc:
        raise _die(str(exc)) from None
    if as_json:
        data = result.to_dict()
        if show_errors:
            data["errors"] = {
                s.name: {
                    "false_positives": [e.to_dict() for e in s.false_positives[:show_errors]],
                    "false_negatives": [e.to_dict() for e in s.false_negatives[:show_errors]],
                }
                for s in result.systems
            }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    _print_devset(console, result)
    if show_errors:
        _print_devset_errors(console, result, show_errors)


def _print_devset(console: Console, result: DevsetResult) -> None:
    from rich.table import Table

    from langlock.text.findings import KINDS

    console.print(
        f"{result.path}: {result.answers} answers, {result.labelled_lines} labelled lines "
        f"({result.bad_lines} bad), preset {result.preset}; langlock answer pass rate "
        f"{result.answer_pass_rate:.1%}",
        markup=False,
    )
    lines = Table(
        title="line-level scores",
        title_justify="left",
        caption="P precision, R recall, FPR false-positive rate on clean lines",
        caption_justify="left",
    )
    for column in ("system", "P", "R", "F1", "FPR", "TP", "FP", "FN", "TN", "sec"):
        lines.add_column(column, justify="left" if column == "system" else "right")
    for system in result.systems:
        s = system.lines
        p = s.prf
        lines.add_row(
            system.name,
            f"{p.precision:.3f}",
            f"{p.recall:.3f}",
            f"{p.f1:.3f}",
            f"{s.fpr:.3f}",
            str(s.tp),
            str(s.fp),
            str(s.fn),
            str(s.tn),
            f"{system.seconds:.2f}",
        )
    console.print(lines)
    kinds = Table(title="recall per kind (baselines: line flagged at all)", title_justify="left")
    kinds.add_column("kind")
    kinds.add_column("n", justify="right")
    for system in result.systems:
        kinds.add_column(system.name, justify="right")
    for kind in KINDS:
        n = result.systems[0].kind_n.get(kind, 0)
        if n:
            kinds.add_row(kind, str(n), *(f"{s.kind_recall(kind):.2f}" for s in result.systems))
    console.print(kinds)
    for system in result.systems:
        console.print(f"  {system.name}: {system.description}", style="dim", markup=False)
    for note in result.notes:
        console.print(note, style="yellow", markup=False)


def _print_devset_errors(console: Console, result: DevsetResult, n: int) -> None:
    from rich.text import Text

    system = result.systems[0]
    for title, errors in (
        ("false positives", system.false_positives),
        ("false negatives", system.false_negatives),
    ):
        console.rule(f"{system.name} {title} ({len(errors)}; showing {min(n, len(errors))})")
        for error in errors[:n]:
            head = Text(f"{error.answer}:{error.line}  ", style="bold")
            head.append(", ".join(error.gold_kinds) or "clean", style="cyan")
            if error.predicted:
                head.append("  predicted: " + "; ".join(visible(p) for p in error.predicted))
            console.print(head)
            console.print(Text("    " + visible(error.text[:300])))


@app.command()
def generate(
    question: Annotated[str, typer.Argument(help="The user's question.")],
    lock: Annotated[
        bool, typer.Option("--lock/--no-lock", help="Mask forbidden scripts while decoding.")
    ] = False,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.strict,
    model: Annotated[
        str, typer.Option("--model", help="A GGUF path, or 'bundled' (Gemma 3 270M).")
    ] = "bundled",
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.8,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 200,
    findings: Annotated[
        bool, typer.Option("--findings", help="Also print what the checker says of the answer.")
    ] = False,
    allow_script: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-script",
            help="A script the answer may use after all, e.g. Han (repeatable).",
        ),
    ] = None,
    latin_bias: Annotated[
        float | None,
        typer.Option("--latin-bias", help="Logit added to Latin tokens in prose (standard)."),
    ] = None,
) -> None:
    """Answer a question with a local GGUF model through llama.cpp, optionally locked."""
    try:
        import llama_cpp

        from langlock.decoding.bundled import bundled_model_path, gemma_turns
        from langlock.decoding.lock import lock as make_lock
        from langlock.policy import Policy
    except ImportError as exc:
        raise _die(f"{exc}; install the decoding extra: pip install 'langlock[decoding]'") from None
    try:
        policy = Policy.from_options(
            lang=lang, preset=preset.value, allow_scripts=allow_script or ()
        )
    except (ValueError, OSError) as exc:  # an unknown script name or language
        raise _die(str(exc)) from None
    path = bundled_model_path() if model == "bundled" else Path(model)
    if not path.is_file():
        raise _die(f"no model file at {path}")
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=2048, verbose=False)
    options: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed}
    if lock:
        processor = make_lock(llama, policy=policy, latin_bias=latin_bias)
        options["logits_processor"] = llama_cpp.LogitsProcessorList([processor])
    if "tokenizer.chat_template" in llama.metadata:
        reply = llama.create_chat_completion([{"role": "user", "content": question}], **options)
        answer = str(reply["choices"][0]["message"]["content"] or "")
    else:  # a base model without a template (the bundled one): Gemma's turn format
        out = llama(gemma_turns(question), stop=["<end_of_turn>", "<start_of_turn>"], **options)
        answer = str(out["choices"][0]["text"])
    from rich.console import Console

    answer = answer.strip()
    Console().print(answer, markup=False, highlight=False)
    if findings:
        import langlock

        report = langlock.check(answer, policy=policy, prompt=question)
        console = _stderr_console()
        for f in report.findings:
            console.print(
                f"  {f.line}:{f.start}  {f.kind} ({f.severity})  {f.message}", markup=False
            )
        console.print("ok" if report.ok else "FAIL", style="green" if report.ok else "red")


class BackendName(StrEnum):
    llama = "llama"
    transformers = "transformers"
    endpoint = "endpoint"


@app.command("eval")
def eval_command(
    prompts: Annotated[
        Path | None,
        typer.Option("--prompts", help="JSONL or CSV with a 'prompt' column (default: built-in)."),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Only the built-in demo subset.")] = False,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Only these categories (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N prompts.")] = None,
    backend: Annotated[BackendName, typer.Option("--backend")] = BackendName.llama,
    model: Annotated[
        str,
        typer.Option("--model", help="'bundled', a GGUF, a HF folder, or the endpoint's model."),
    ] = "bundled",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible base URL (…/v1).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar="LANGLOCK_API_KEY", show_default=False)
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            help="none, frame, lock, frame+lock, guard, frame+lock+guard, or all (repeatable; "
            "default: the first four).",
        ),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=1)] = 2,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.7,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    repeat_penalty: Annotated[
        float | None,
        typer.Option(
            "--repeat-penalty",
            min=0.0,
            help="Same for every strategy. Default: 1.1 on local backends (as Ollama serves), "
            "the server's own on an endpoint; 1 turns it off.",
            show_default=False,
        ),
    ] = None,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    lock_preset: Annotated[
        PresetName, typer.Option("--lock-preset", help="Preset the lock strategies decode under.")
    ] = PresetName.strict,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the JSONL, summary and report.")
    ] = Path("langlock-eval"),
) -> None:
    """How often does a model leave the target language, and which remedy fixes it at what
    cost: every prompt under each strategy, scored by the checker."""
    from langlock.eval.prompts import PromptFileError, builtin_prompts, load_prompts
    from langlock.eval.runner import EvalRun, Settings
    from langlock.eval.strategies import choose

    try:
        chosen = load_prompts(prompts) if prompts else builtin_prompts(lang, demo=demo)
    except PromptFileError as exc:
        raise _die(str(exc)) from None
    if category:
        chosen = [p for p in chosen if p.category in category]
    chosen = chosen[:limit] if limit else chosen
    if not chosen:
        raise _die("no prompts left to run (check --category)")
    console = _stderr_console()
    try:
        engine = _eval_backend(backend, model, base_url, api_key)
    except (ImportError, FileNotFoundError, OSError, ValueError) as exc:
        raise _die(f"cannot start the {backend.value} backend: {exc}") from None
    try:
        runnable, skipped = choose(_strategy_names(strategy), engine)
    except ValueError as exc:
        raise _die(str(exc)) from None
    for name, why in skipped.items():
        console.print(f"skipping {name}: {why}", style="yellow")
    if not runnable:
        raise _die("no strategy can run on this backend")
    if repeat_penalty is None and backend is not BackendName.endpoint:
        repeat_penalty = 1.1
    settings = Settings(
        lang=lang,
        preset=preset.value,
        lock_preset=lock_preset.value,
        temperature=temperature,
        samples=samples,
        seed=seed,
        max_tokens=max_tokens,
        repeat_penalty=repeat_penalty,
    )
    try:
        run = EvalRun(engine, chosen, runnable, settings, out, skipped)
    except ValueError as exc:
        raise _die(str(exc)) from None
    complete = _run_with_progress(run, console)
    paths = run.write_outputs()
    _print_eval_table(json.loads(paths["summary"].read_text(encoding="utf-8")))
    console.print(f"generations: {paths['jsonl']}\nsummary:     {paths['summary']}")
    console.print(f"report:      {paths['report']}", style="bold")
    if not complete:
        console.print("interrupted: re-run the same command to resume", style="yellow")
        raise typer.Exit(130)


def _strategy_names(given: list[str] | None) -> list[str]:
    from langlock.eval.strategies import STRATEGIES

    if not given:
        return ["none", "frame", "lock", "frame+lock"]
    return list(STRATEGIES) if "all" in given else given


def _eval_backend(name: BackendName, model: str, base_url: str | None, api_key: str | None) -> Any:
    from langlock.eval import backends

    if name is BackendName.endpoint:
        if not base_url:
            raise ValueError("--base-url is needed for the endpoint backend")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        return backends.EndpointBackend(base_url, model, key)
    if name is BackendName.transformers:
        return backends.TransformersBackend(model)
    return backends.LlamaCppBackend(model)


def _run_with_progress(run: Any, console: Any) -> bool:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    todo = run.pending()
    if not todo:
        console.print("every answer is already in the JSONL: re-scoring only")
        return True
    failed = 0
    with Progress(
        TextColumn("[bold]eval[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=len(todo))

        def done(record: dict[str, Any]) -> None:
            nonlocal failed
            failed += record["error"] is not None
            note = f"{record['strategy']} {record['id']}" + (
                f"  errors: {failed}" if failed else ""
            )
            progress.update(task, advance=1, description=note)

        return run.execute(done)


def _penalty_note(summary: dict[str, Any]) -> str:
    penalty = summary.get("repeat_penalty")
    return f" · repeat penalty {penalty}" if penalty not in (None, 1.0) else ""


def _print_eval_table(summary: dict[str, Any]) -> None:
    """Two narrow tables (they fit 80 columns): verdicts, then kinds."""
    from rich.console import Console
    from rich.table import Table

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.0f}%"

    def interval(r: dict[str, float]) -> str:
        return f"{pct(r['value'])} [{100 * r['low']:.0f}–{100 * r['high']:.0f}]"

    rows = {(r["strategy"], r["category"]): r for r in summary["rows"]}
    verdicts = Table(
        title=f"{summary['model']} · {summary['lang']} · scored {summary['preset']} · "
        f"T={summary['temperature']}{_penalty_note(summary)} · "
        f"{summary['generations']}/{summary['expected']} answers",
        caption="pass: no major finding; degenerate: empty, looping or wordless answers; "
        "trap: prompts that ask for foreign text (a pass means it was not blocked)",
    )
    for column in ("strategy", "pass [95% CI]", "degenerate", "lines ok", "trap pass"):
        verdicts.add_column(column)
    verdicts.add_column("chars", justify="right")
    verdicts.add_column("tok/s", justify="right")
    guarded = any(r.get("mean_attempts", 1.0) > 1.0 for r in summary["rows"])
    if guarded:
        verdicts.add_column("tries (+s)", justify="right")
    kinds = Table(title="answers with a major finding, by kind; LCB line/word pass rates")
    kinds.add_column("strategy")
    for column in ("script", "mixed", "word", "language", "translit", "other", "LPR", "WPR"):
        kinds.add_column(column, justify="right")
    main = ("foreign_script", "mixed_script", "foreign_word", "wrong_language", "translit")
    for name in summary["strategies"]:
        r = rows[(name, "all")]
        trap = rows.get((name, "trap"))
        verdicts.add_row(
            name,
            interval(r["pass_rate"]),
            pct(r["degenerate_rate"]["value"]),
            pct(r["line_pass_rate"]["value"]),
            interval(trap["pass_rate"]) if trap and trap["n"] else "–",
            f"{r['mean_chars']:.0f}",
            f"{r['tokens_per_second']:.1f}",
            *(
                [f"{r.get('mean_attempts', 1.0):.2f} (+{r.get('mean_added_seconds', 0.0):.1f})"]
                if guarded
                else []
            ),
        )
        other = max((v for k, v in r["kinds"].items() if k not in main), default=0.0)
        kinds.add_row(
            name,
            *(pct(r["kinds"][k]) for k in main),
            pct(other),
            pct(r["lpr"]),
            pct(r["wpr"]),
        )
    console = Console()
    console.print(verdicts)
    console.print(kinds)


class CleanMode(StrEnum):
    drop = "drop"
    repair = "repair"
    tag = "tag"


class EngineName(StrEnum):
    local = "local"
    ray = "ray"


@app.command()
def clean(
    source: Annotated[
        Path,
        typer.Argument(
            help="JSONL(.gz/.zst), Parquet, CSV, text, or a datasets folder (save_to_disk)."
        ),
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Kept records.")] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="Rejected records.")] = None,
    stats: Annotated[Path | None, typer.Option("--stats", help="Stats JSON.")] = None,
    mode: Annotated[CleanMode, typer.Option("--mode")] = CleanMode.drop,
    record_format: Annotated[
        str,
        typer.Option("--format", help="auto, text, alpaca, chat, sharegpt or preference."),
    ] = "auto",
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Chat roles to check (default assistant).")
    ] = None,
    text_field: Annotated[str | None, typer.Option("--text-field")] = None,
    text_unit: Annotated[
        str, typer.Option("--text-unit", help="For text input: a record per 'line' or 'file'.")
    ] = "line",
    output_format: Annotated[
        str | None, typer.Option("--output-format", help="jsonl, parquet, csv, hf or text.")
    ] = None,
    engine: Annotated[EngineName, typer.Option("--engine")] = EngineName.local,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes (default: all cores).")
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="An existing Ray cluster.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N records.")] = None,
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    allow: AllowOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Keep confused examples out of a fine-tuning corpus (or repair them, or tag them)."""
    import time

    from langlock.clean.engines import CleanerSpec
    from langlock.clean.io import KINDS
    from langlock.clean.pipeline import CleanRun, Paths
    from langlock.clean.records import FORMATS

    if not source.exists():
        raise _die(f"no such input: {source}")
    if record_format not in ("auto", *FORMATS):
        raise _die(f"unknown format {record_format!r}; choose auto, {', '.join(FORMATS)}")
    if output_format is not None and output_format not in KINDS:
        raise _die(f"unknown output format {output_format!r}; choose {', '.join(KINDS)}")
    _build_policy(lang, preset.value, allow, config)  # a bad option fails here, not in a worker
    from langlock.clean.io import input_kind

    kind = input_kind(source)
    defaults = Paths.beside(source, output_format or kind)
    paths = Paths(output or defaults.kept, rejects or defaults.rejects, stats or defaults.stats)
    spec = CleanerSpec(
        lang,
        preset.value,
        tuple(allow or ()),
        mode.value,
        record_format,
        tuple(role or ("assistant",)),
        text_field,
        str(config) if config else None,
    )
    run = CleanRun(
        source,
        paths,
        spec,
        engine.value,
        workers or os.cpu_count() or 1,
        ray_address,
        limit,
        None,
        output_format,
        text_unit,
    )
    console = _stderr_console()
    started = time.perf_counter()
    try:
        result = _clean_with_progress(run, console, limit)
    except KeyboardInterrupt:
        console.print("interrupted: no output was written", style="yellow")
        raise typer.Exit(130) from None
    except (OSError, ValueError) as exc:
        raise _die(f"{source}: {exc}") from None
    seconds = time.perf_counter() - started
    megabytes = source.stat().st_size / 1e6 if source.is_file() else 0.0
    summary = result.to_dict()
    console.print(
        f"{summary['records_in']:,} in = {summary['kept']:,} kept "
        f"({summary['repaired']:,} repaired) + {summary['rejected']:,} rejected "
        f"({summary['rejected_unreadable']:,} unreadable, {summary['rejected_format']:,} "
        f"bad format, {summary['rejected_findings']:,} with findings)"
        + ("" if summary["balanced"] else "  [red]DOES NOT ADD UP[/]")
    )
    if summary["findings_by_kind"]:
        kinds = ", ".join(f"{k} {v:,}" for k, v in summary["findings_by_kind"].items())
        console.print(f"findings: {kinds}")
    for example in summary["examples"][:3]:
        console.print(f"  e.g. {example['source']}: {example['reason']}", markup=False)
    rate = summary["records_in"] / seconds if seconds else 0.0
    console.print(
        f"{seconds:.1f} s, {rate:,.0f} records/s"
        + (f", {megabytes / seconds:.2f} MB/s" if megabytes else "")
    )
    console.print(f"kept: {paths.kept}\nrejects: {paths.rejects}\nstats: {paths.stats}")


def _clean_with_progress(run: Any, console: Any, limit: int | None) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed or 0:,.0f} records/s")

    total = limit or _count_records(run.source)
    with Progress(
        TextColumn("[bold]clean[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=total)
        return run.run(lambda done: progress.advance(task, done))


def _count_records(source: Path) -> int | None:
    """Lines of an uncompressed text input, for the ETA (a fast pass); None if unknown."""
    if not source.is_file() or source.suffix.lower() not in (".jsonl", ".json", ".ndjson", ".txt"):
        return None
    count = 0
    with source.open("rb") as handle:
        while block := handle.read(1 << 22):
            count += block.count(b"\n")
    return count


class GuardStrategyName(StrEnum):
    regenerate = "regenerate"
    repair = "repair"
    annotate = "annotate"
    block = "block"


class StreamModeName(StrEnum):
    buffer = "buffer"
    cut = "cut"


class UpstreamHelpName(StrEnum):
    auto = "auto"
    bias = "bias"
    off = "off"


def _vocab_path(given: Path | None) -> str | None:
    if given is None:
        return None
    if str(given) == "bundled":
        from langlock.decoding.bundled import bundled_model_path

        return str(bundled_model_path())
    return str(given)


@app.command("serve")
def serve_command(
    upstream: Annotated[
        str, typer.Option("--upstream", help="The OpenAI-compatible server to guard (…/v1).")
    ],
    lang: LangOpt = "ru",
    preset: PresetOpt = PresetName.standard,
    strategy: Annotated[
        GuardStrategyName, typer.Option("--strategy", help="What to do with a failing answer.")
    ] = GuardStrategyName.regenerate,
    attempts: Annotated[
        int, typer.Option("--attempts", min=1, max=10, help="Answers per request, at most.")
    ] = 3,
    stream_mode: Annotated[
        StreamModeName,
        typer.Option(
            "--stream-mode",
            help="buffer: hold each sentence until checked; cut: "
            "release word by word, cut at the first finding.",
        ),
    ] = StreamModeName.buffer,
    frame: Annotated[
        bool, typer.Option("--frame/--no-frame", help="Frame chat requests in the language.")
    ] = True,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="LANGLOCK_API_KEY",
            help="Key clients must send.",
            show_default=False,
        ),
    ] = None,
    upstream_api_key: Annotated[
        str | None,
        typer.Option(
            "--upstream-api-key",
            envvar="LANGLOCK_UPSTREAM_API_KEY",
            help="Key sent upstream (default: the client's own).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Upstream timeout, s.")
    ] = 120.0,
    upstream_vocab: Annotated[
        Path | None,
        typer.Option(
            "--upstream-vocab",
            help="The served model's GGUF or tokenizer.json ('bundled': the bundled Gemma): "
            "lets the proxy ban foreign-script tokens upstream through logit_bias.",
            show_default=False,
        ),
    ] = None,
    upstream_help: Annotated[
        UpstreamHelpName,
        typer.Option(
            "--upstream-help",
            help="auto: ban foreign-script tokens through logit_bias when --upstream-vocab is "
            "given; bias: require it; off: check and regenerate only.",
        ),
    ] = UpstreamHelpName.auto,
) -> None:
    """An OpenAI-compatible proxy that frames, checks and regenerates every answer of an
    upstream server, streaming included."""
    try:
        import uvicorn

        from langlock.guarding.proxy import ClientError, ProxyConfig, ProxySettings, create_app
    except ImportError as exc:
        raise _die(
            f"serve needs the 'serve' extra (pip install 'langlock[serve]'): {exc}"
        ) from None
    settings = ProxySettings(lang, preset.value, strategy.value, attempts, stream_mode.value, frame)
    config = ProxyConfig(
        upstream,
        settings,
        api_key,
        upstream_api_key,
        timeout,
        upstream_help.value,  # type: ignore[arg-type]
        _vocab_path(upstream_vocab),
    )
    try:
        application = create_app(config)
    except (ClientError, OSError, ValueError) as exc:
        raise _die(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        _stderr_console().print(
            f"warning: serving on {host} without --api-key: anyone who reaches it can use it",
            style="yellow",
        )
    uvicorn.run(application, host=host, port=port, log_level="warning")
