"""Apply the masks while a model generates: follow the emitted bytes (pending UTF-8, code,
URL or prose) and let only allowed tokens through.

Besides scripts, the lock enforces the checker's loop rule in prose: after the same line twice
in a row, tokens that would write it a third time are banned. A model kept out of the
scripts it wanted falls into such loops easily (the bundled Gemma did in one answer in ten).

``LockState`` and ``LockMasks`` are engine-neutral (numpy rows, one per state, built once
and reused), shared by the engine adapters: ``langlock.decoding.llama_cpp.LlamaCppLock``
(llama-cpp-python's ``logits_processor``, in place) and
``langlock.decoding.transformers.TransformersLock``. ``langlock.decoding.lock()`` picks the
right one for what it is given.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from langlock.decoding.masks import (
    URL_SCHEMES,
    LetterClass,
    MaskCompiler,
    Mode,
    ScriptRule,
    mask_mode,
)
from langlock.decoding.token_bytes import TokenTable
from langlock.policy import Policy
from langlock.text.detectors import RepetitionDetector
from langlock.text.scripts import utf8_length

log = logging.getLogger(__name__)
_FENCE_LINE = re.compile(r"[ \t]*```")
_URL_TAIL = re.compile(r"(?:https?://|www\.)[^\s<>\"«»]*$")
_WORD_TAIL = re.compile(r"[^\s(\[<«\"']*$")
#: A turn header's role line after the turn marker: ``model\n``, ``assistant\n``.
_TURN_ROLE = re.compile(rb"^[A-Za-z_]{1,16}\n")
#: The checker's loop rule, read from its detector: ``min_run`` identical lines in a row,
#: ``long_run`` of symbols only; a blank line breaks a run of lines shorter than ``paragraph``.
_LOOPS = RepetitionDetector()
#: How much a Latin-bearing token's logit drops in prose, per preset: ``strict`` bans it
#: outright, ``standard`` makes it about seven times less likely (names and terms still get
#: through when the model is sure), ``lenient`` leaves it alone. Tunable: ``latin_bias``.
LATIN_BIAS = {"strict": 0.0, "standard": -2.0, "lenient": 0.0}
#: Under ``open_native``, letterless prose lines in a row (``?``, ``(2)``) after which the
#: next line must open in the target language: two, so that a table's ``|---|`` rule or a
#: lone ``$$`` never trips it.
BARE_LINES_BEFORE_OPENING = 2


@dataclass
class LockState:
    r"""What the generated text so far means for the next token.

    Only the unfinished line is kept (plus how many fence lines came before it), so a step
    costs the same at token 10 and at token 10,000.

    >>> s = LockState()
    >>> s.feed("при ```py\nx".encode() + b"\xd0")
    >>> s.mode, s.pending
    ('prose', b'\xd0')
    >>> s.feed(b"\xbf\n```python\nx = 1")
    >>> s.mode
    'code'
    >>> s.feed(b"\n```\nhttp")
    >>> s.mode, s.scheme_tail
    ('prose', 'http')
    >>> s.feed(b"s://example.com/a")
    >>> s.mode
    'url'
    """

    pending: bytes = b""
    line: str = ""
    fences: int = 0
    #: Inside a fenced block that has no content line yet.
    empty_block: bool = False
    #: The last non-blank prose line (stripped) and how many times in a row it was written:
    #: the checker's ``repetition`` rule counts such runs.
    run_line: str = ""
    run_count: int = 0
    #: Whether any text but whitespace has been written (prefill included).
    opened: bool = False
    #: Prose lines in a row with no letter in them (``?``, ``(2)``, ``$$``), blank ones
    #: skipped: where a model barred from its language drifts into symbols.
    bare_lines: int = 0

    @property
    def mode(self) -> Mode:
        """Code inside a fenced block (``` at a line start) or inline backticks; a URL
        being written; prose otherwise."""
        line = self.line
        if _FENCE_LINE.match(line) or self.fences % 2:
            return "code"
        if line.count("`") % 2:
            return "code"
        if _URL_TAIL.search(line[-512:]):
            return "url"
        return "prose"

    @property
    def scheme_tail(self) -> str:
        """The last word when it is the unfinished start of a URL scheme (``htt``), else ''."""
        match = _WORD_TAIL.search(self.line[-16:])
        word = match.group() if match else ""
        return word if word and any(s.startswith(word) and s != word for s in URL_SCHEMES) else ""

    @property
    def repeated_line(self) -> str | None:
        """The line whose next copy would make a loop by the checker's rule: one with a
        letter or digit written twice in a row, or one of symbols only written nine times."""
        wordy = any(c.isalnum() for c in self.run_line)
        if self.run_count >= (_LOOPS.min_run if wordy else _LOOPS.long_run) - 1:
            return self.run_line
        return None

    @property
    def closing_empty_block(self) -> bool:
        """At a line start in a fenced block with nothing in it yet: a fence here would close
        an empty block, which is never content (a model barred from prose spams them)."""
        return self.empty_block and not self.line.strip()

    def feed(self, data: bytes) -> None:
        """Account for newly emitted bytes."""
        data = self.pending + data
        cut = complete_utf8_prefix(data)
        self.pending = data[cut:]
        text = data[:cut].decode("utf-8", "replace")
        self.opened = self.opened or bool(text.strip())
        if "\n" in text:
            *done, self.line = (self.line + text).split("\n")
            for line in done:
                if _FENCE_LINE.match(line):
                    self.fences += 1
                    self.empty_block = self.fences % 2 == 1
                    self.run_line, self.run_count = "", 0
                elif line.strip():
                    self.empty_block = False
                    if not self.fences % 2:
                        lettered = any(c.isalpha() for c in line)
                        self.bare_lines = 0 if lettered else self.bare_lines + 1
                        key = line.strip()
                        same = key == self.run_line
                        self.run_line, self.run_count = key, self.run_count + 1 if same else 1
                elif len(self.run_line) < _LOOPS.paragraph:
                    self.run_line, self.run_count = "", 0  # a blank line ends a run of short lines
        else:
            self.line += text


def complete_utf8_prefix(data: bytes) -> int:
    r"""Length of ``data`` up to an unfinished UTF-8 character at its end.

    >>> complete_utf8_prefix(b"ab\xd0"), complete_utf8_prefix("при".encode())
    (2, 6)
    """
    for back in range(1, min(4, len(data)) + 1):
        lead = data[-back]
        if lead & 0xC0 != 0x80:  # not a continuation byte: a lead or ASCII
            return len(data) - back if utf8_length(lead) > back else len(data)
    return len(data)


#: What selects a mask: mode, pending bytes, URL-scheme tail, closing an empty block,
#: whose letter ends the text (a word must not switch script), and whether the answer must
#: still open in the target language (``open_native``).
StateKey = tuple[Mode, bytes, str | None, bool, LetterClass | None, bool]


@dataclass(frozen=True)
class MaskRow:
    """One state's mask over a logits row: the additive penalty (0 allowed, -inf banned, the
    Latin bias on soft-banned tokens), the allowed ids, and a few of them to probe first for
    the all-banned case."""

    penalty: np.ndarray
    ids: np.ndarray
    probe: np.ndarray


class LockMasks:
    """Engine-neutral lock: the mask row for a state, and the state after emitted ids."""

    def __init__(
        self,
        table: TokenTable,
        policy: Policy,
        allow_scripts: frozenset[str] = frozenset(),
        latin_bias: float | None = None,
        use_cache: bool = True,
        open_native: bool = False,
    ) -> None:
        self.table = table
        self.open_native = open_native
        self.rule = ScriptRule.from_policy(policy, allow_scripts)
        self.compiler = MaskCompiler(table, self.rule, cache=use_cache)
        self.latin_bias = LATIN_BIAS[policy.preset.name] if latin_bias is None else latin_bias
        self._rows: dict[tuple[Any, ...], MaskRow] = {}
        self._fences: np.ndarray | None = None
        self._texts: list[str] | None = None
        self._loops: dict[tuple[str, bool], np.ndarray] = {}

    def key(self, state: LockState) -> StateKey:
        """The mask a state needs: its mode, its pending bytes, where prose bans Latin how far
        a URL scheme has been written, whether a fence would close an empty block, and in
        prose whose letter the text ends with."""
        mode = mask_mode(state.mode)
        tail = None
        letter = None
        if mode == "prose" and not state.pending:
            if not self.rule.latin_in_prose:
                tail = state.scheme_tail
            letter = self._last_letter(state.line)
        empty = state.closing_empty_block and not state.pending
        opening = (
            self.open_native
            and mode == "prose"
            and not state.pending
            and (
                not state.opened
                or (state.bare_lines >= BARE_LINES_BEFORE_OPENING and not state.line.strip())
            )
        )
        return mode, state.pending, tail, empty, letter, opening

    def _last_letter(self, line: str) -> LetterClass | None:
        """The letter class of the line's last character (combining marks skipped)."""
        for char in reversed(line[-8:]):
            if not unicodedata.combining(char):
                return self.rule.letter_class(char)
        return None

    def row(self, key: StateKey, width: int) -> MaskRow:
        """The mask row for a state key, sized to the logits row (it can exceed the table)."""
        if (*key, width) not in self._rows:
            self._rows[(*key, width)] = self._build_row(*key, width)
        return self._rows[(*key, width)]

    def start(self, prompt_ids: Any) -> LockState:
        """The state at the start of the answer: the prompt after its last special token (the
        model's turn marker) is the answer's prefill, so a fence opened there means code. A
        role line right after the marker (Gemma's ``model``, ChatML's ``assistant``) is the
        turn's header, not the answer."""
        special = self.table.special
        start = 0
        for position in range(len(prompt_ids) - 1, -1, -1):
            if int(prompt_ids[position]) in special:
                start = position + 1
                break
        prefill = self.emitted(prompt_ids[start:])
        state = LockState()
        state.feed(_TURN_ROLE.sub(b"", prefill, count=1) if start else prefill)
        return state

    def advance(self, state: LockState, ids: Any) -> None:
        """Account for emitted ids."""
        state.feed(self.emitted(ids))

    def emitted(self, ids: Any) -> bytes:
        """The bytes ``ids`` write (ids past the table write nothing)."""
        pieces = self.table.pieces
        return b"".join(pieces[int(t)] for t in ids if int(t) < len(pieces))

    def _build_row(
        self,
        mode: Mode,
        pending: bytes,
        tail: str | None,
        empty_block: bool,
        letter: LetterClass | None,
        opening: bool,
        width: int,
    ) -> MaskRow:
        size = len(self.table)
        allowed_in_table = self.compiler.allowed_array(mode, pending)
        if tail is not None:
            allowed_in_table = allowed_in_table | self.compiler.scheme_array(tail)
        if empty_block:
            allowed_in_table = allowed_in_table & ~self._fence_starts()
        if letter is not None:  # the word goes on in its own script, or ends
            other = "foreign" if letter == "native" else "native"
            allowed_in_table = allowed_in_table & ~self.compiler.starts_array(other)
        opens = self.compiler.opens_array("native") if opening else None
        if opens is not None and opens.any():  # the first word is the target language's
            allowed_in_table = allowed_in_table & (opens | self.compiler.special_array())
        allowed = np.ones(width, dtype=bool)  # ids past the table: padding, never ours to ban
        allowed[: min(size, width)] = allowed_in_table[:width]
        penalty = np.where(allowed, 0.0, -np.inf).astype(np.float32)
        if self.latin_bias and mode == "prose" and not pending:
            latin = np.zeros(width, dtype=bool)
            latin[: min(size, width)] = self.compiler.latin_array()[:width]
            penalty[latin & allowed] = self.latin_bias
        ids = np.flatnonzero(allowed[:size])
        special = np.fromiter(sorted(self.table.special), dtype=np.int64)
        probe = np.concatenate([special[special < width][:64], ids[:64]])
        return MaskRow(penalty, ids, probe)

    def loop_ban(self, state: LockState) -> np.ndarray | None:
        """Ids that would go on writing a third copy of a line just written twice (the
        checker's loop rule), or None. Only in prose, at a character boundary."""
        line = state.repeated_line
        if line is None or state.pending or state.mode != "prose":
            return None
        typed = state.line.lstrip()
        if not line.startswith(typed) or len(typed) == len(line):
            return None
        rest, at_start = line[len(typed) :], not typed
        if (rest, at_start) not in self._loops:
            if len(self._loops) > 256:
                self._loops.clear()
            self._loops[(rest, at_start)] = self._continuing(rest, at_start)
        return self._loops[(rest, at_start)]

    def _continuing(self, rest: str, at_start: bool) -> np.ndarray:
        """Tokens whose text is a start of ``rest``, or starts with all of it (leading
        spaces ignored at a line start). A scan of the vocabulary: tens of milliseconds,
        once per loop."""
        if self._texts is None:
            special = self.table.special
            self._texts = [
                "" if i in special else p.decode("utf-8", "ignore")
                for i, p in enumerate(self.table.pieces)
            ]
        ids = []
        for i, text in enumerate(self._texts):
            piece = text.lstrip(" \t") if at_start else text
            if piece and (rest.startswith(piece) or piece.startswith(rest)):
                ids.append(i)
        return np.array(ids, dtype=np.int64)

    def _fence_starts(self) -> np.ndarray:
        """Tokens that begin a line with a backtick (a fence, after optional indentation)."""
        if self._fences is None:
            self._fences = np.fromiter(
                (p.lstrip(b" \t")[:1] == b"`" for p in self.table.pieces),
                dtype=bool,
                count=len(self.table),
            )
        return self._fences


def warn_all_banned() -> None:
    log.warning("langlock: every allowed token is banned here; ending the answer")
