"""``repetition``: degenerate loops of lines or phrases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import regex

from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.findings import Finding

_WORD = regex.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class RepetitionDetector(Detector):
    """Degenerate loops: the same line again and again, or one phrase looping in a line.

    Outside code and tables, three identical lines in a row with a letter or digit in them
    are a loop; lines of symbols only (rules, ASCII art) at ``long_run`` copies.
    """

    min_run: int = 3
    long_run: int = 10
    paragraph: int = 40
    phrase_repeats: int = 4
    max_ngram: int = 8
    kinds = ("repetition",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        yield from self._line_loops(ctx)
        yield from self._phrase_loops(ctx)

    def _line_loops(self, ctx: Context) -> Iterator[Finding]:
        text, starts = ctx.text, ctx.line_starts
        keys = [line.strip() for line in text.split("\n")]
        filled = [k for k in keys if k]
        if len(set(filled)) == len(filled):
            return  # no non-blank line occurs twice: no loop
        run: list[int] = []
        run_key = ""
        gap = False
        for idx, key in enumerate([*keys, None]):
            if key == "":
                gap = True
                continue
            # A blank line ends a run of short lines (a song's refrain), not of paragraphs.
            if key == run_key and (not gap or len(key) >= self.paragraph):
                run.append(idx)
                gap = False
                continue
            if len(run) >= self.min_run and self._is_loop(ctx, run_key, run):
                last = run[-1]
                last_end = starts[last + 1] - 1 if last + 1 < len(starts) else len(text)
                yield ctx.finding(
                    "repetition",
                    starts[run[1]],
                    last_end,
                    f"degenerate loop: the line “{_short(run_key)}” repeats {len(run)} times",
                )
            run_key, run, gap = key or "", ([idx] if key else []), False

    def _is_loop(self, ctx: Context, key: str, run: list[int]) -> bool:
        start = ctx.line_starts[run[0]]
        if key.startswith("|") or ctx.in_code(start, start + 1):
            return False  # POLICY.md: tables and code repeat rows by design
        if len(run) >= self.long_run:
            return True
        return len(run) >= self.min_run and any(c.isalnum() for c in key)

    def _phrase_loops(self, ctx: Context) -> Iterator[Finding]:
        text, starts = ctx.text, ctx.line_starts
        for i, s in enumerate(starts):
            e = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
            if e - s < 40:
                continue
            plain = text[s:e].split()
            if len(plain) < 8 or len(set(plain)) * 2 > len(plain):
                continue  # mostly distinct words: no loop (cheap test before the regex)
            words = list(_WORD.finditer(text, s, e))
            if len(words) < 8 or len({w.group().casefold() for w in words}) > len(words) // 2:
                continue
            found = self._loop_in(words)
            if found and not ctx.in_code(found[0], found[1]):
                a, b, phrase, times = found
                yield ctx.finding(
                    "repetition", a, b, f"degenerate loop: “{_short(phrase)}” repeats {times} times"
                )

    def _loop_in(self, words: list[regex.Match[str]]) -> tuple[int, int, str, int] | None:
        keys = [w.group().casefold() for w in words]
        for n in range(1, self.max_ngram + 1):
            need = self.phrase_repeats + (2 if n == 1 else 0)
            i = 0
            while i + n * need <= len(keys):
                times = 1
                while keys[i + times * n : i + (times + 1) * n] == keys[i : i + n]:
                    times += 1
                if times >= need:
                    phrase = " ".join(keys[i : i + n])
                    return words[i + n].start(), words[i + times * n - 1].end(), phrase, times
                i += 1
        return None


def _short(s: str, limit: int = 40) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"
