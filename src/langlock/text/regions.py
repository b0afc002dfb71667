"""Protected regions: code, URLs, e-mails, paths, LaTeX, markup, handles.

Text inside a protected region is never a ``foreign_word``/``translit``/``wrong_language``
finding, and ``fix`` never edits it. Code is kept apart from the rest because
``foreign_script``, ``invisible`` and ``special_token`` still count inside code.

Hand-written because no maintained library segments LLM markdown this way (markdown
parsers drop offsets or need the whole document to be well formed, and LLM output often
is not: unclosed fences, fences indented inside list items).

>>> r = Regions.find("см. `x = 1` и https://example.com/a")
>>> [(k, "см. `x = 1` и https://example.com/a"[s:e]) for s, e, k in r.spans]
[('code', '`x = 1`'), ('url', 'https://example.com/a')]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from langlock.text.tokens import blank_invisible, blank_special_tokens

_FENCE = re.compile(r"(?m)^[ \t>]*(`{3,}|~{3,})[^\n]*$")
_INLINE_CODE = re.compile(r"(`+)(?!`)[^\n]*?(?<!`)\1(?!`)")
_URL_REST = r"[^\s<>\"'«»`\u200b-\u200f\u2060\ufeff]+"
_SCHEME_TAIL = re.compile(r"://" + _URL_REST)
_SCHEME = re.compile(r"(?<![A-Za-z0-9])(?:https?|ftp|file|ssh|git|s3|wss?)\Z", re.I)
_WWW = re.compile(r"www\." + _URL_REST)
#: Searched from the "@" and extended to the left by hand: a leading ``[\w.+-]+`` would
#: be tried at every word of the text.
_EMAIL_TAIL = re.compile(r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_EMAIL_HEAD = re.compile(r"[A-Za-z0-9._+-]+$")
# Some hot patterns start with a literal and check what stands before a match by hand
# (``_free_before``): a leading lookbehind or \b there made ``re`` try every position.
_PATH = re.compile(r"(?:~/|\.\./|\./|/)(?:[A-Za-z0-9_.@+-]+/)*[A-Za-z0-9_.@+-]+/?")
_WINDOWS_PATH = re.compile(r":\\[^\s\"'«»]+")
#: File names and bare domains are found from their ending and extended left by hand, so
#: the text is not scanned word by word.
_FILE_TAIL = re.compile(
    r"\.(?:py|js|ts|tsx|jsx|json|jsonl|yaml|yml|toml|ini|cfg|txt|md|csv"
    r"|tsv|html|css|xml|sh|bat|ps1|exe|dll|so|c|h|cpp|hpp|rs|go|java|kt|rb|php|sql|ipynb|pdf"
    r"|docx?|xlsx?|pptx?|png|jpe?g|gif|svg|mp[34]|wav|zip|tar|gz|log|lock|env|gguf|bin"
    r"|safetensors|pt|onnx)\b"
)
_DOMAIN_TAIL = re.compile(
    r"\.(?:com|org|net|io|ru|dev|ai|edu|gov|info|me|app|co|uk|de)(?:/[^\s<>\"'«»`]*)?\b"
)
_NAME_HEAD = re.compile(r"(?<![\w.-])[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
# Bounded lazy spans: an unbounded ``.+?`` would scan to the end of the text from every
# "$" of a shell prompt or a PHP variable.
_LATEX = (
    # Two patterns, each starting with its literal ("$" or "\"), which re jumps to.
    re.compile(r"\$\$.{1,2000}?\$\$|\$(?<![\\\w$]\$)(?=\S)[^$\n]{1,200}?(?<=\S)\$(?!\d)", re.S),
    re.compile(
        r"\\(?:\(.{1,1000}?\\\)|\[.{1,2000}?\\\]|begin\{(\w+\*?)\}.{0,5000}?\\end\{\1\}"
        r"|[a-zA-Z]+(?:\{[^{}\n]*\})*)",
        re.S,
    ),
)
#: f(x), O(n log n), sin(x): a short call written as math or code in prose.
_CALL_ARGS = re.compile(r"\([^()\n]{0,40}\)")
_CALL_NAME = re.compile(r"(?<![\w.])[A-Za-z_][\w.]{0,30}\Z")
#: <div class="x">, </autoregistration>: markup tags.
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>\n]{0,200})?/?>")
_HANDLE = re.compile(r"[#@][\w.-]*[^\W\d_][\w-]*")
#: snake_case, dotted.names, CamelCase.method, --flags, key=value: identifiers in prose.
#: Found from their joints ("." "_" "=") and a leading "-", then extended by hand: a
#: pattern that starts with a lookbehind makes ``re`` try every position of the text.
_FLAG = re.compile(r"--?[A-Za-z][\w-]*(?:=\S+)?")
_JOINT = re.compile(r"[._][A-Za-z0-9_]")
_ASSIGN = re.compile(r"=[^\s,;=]+")
_IDENT_HEAD = re.compile(r"(?<![\w-])[A-Za-z_][A-Za-z0-9_]*\Z")
_IDENT_TAIL = re.compile(r"(?:[._][A-Za-z0-9_]+)+(?:\(\))?")


#: A line of code outside any fence: LLMs often paste code without one. Kept narrow (a
#: keyword or shell tool first, or code punctuation at the end) so prose stays prose.
_CODE_LINE_BODY = (
    # Every branch starts with a non-Cyrillic character: most prose lines fail at once.
    r"[ \t]*(?![\u0400-\u052f\n])(?:"
    r"(?://|/\*|\*/|#!|#include\b|#define\b|<\?php|>>>|\$ )[^\n]*"
    r"|(?:def|class|return|import|elif|else|except|try|finally|lambda|yield|raise|function"
    r"|var|let|const|public|private|protected|static|void|struct|fn|impl|package|func|echo"
    r"|printf?|console\.log|System\.out\.\w+|local|end|begin|del|assert|pass|break"
    r"|continue)\b(?![ \t]+[\u0400-\u052f])[^\n]*"
    r"|from[ \t]+[\w.]+[ \t]+import\b[^\n]*"
    r"|(?:if|for|while|switch|catch|elif)[ \t]*\([^\n]*"
    r"|(?:sudo|pip3?|npm|npx|yarn|pnpm|git|docker|kubectl|helm|apt(?:-get)?|brew|conda|python3?"
    r"|node|cd|ls|mkdir|rm|cp|mv|cat|curl|wget|chmod|chown|export|source|make|cargo|go|javac?"
    r"|gcc|g\+\+|ssh|scp|systemctl|journalctl|grep|tar|unzip|ollama|uv|poetry)"
    r"[ \t]+[-\w./$\"'=:@][^\n\u0400-\u052f]*"
    r"|(?=[^\n\u0400-\u052f]*$)(?=[^\n;{)=]*[;{)=])(?![^\n]*?(?:\b[A-Za-z]+[ ,]+){4}[A-Za-z])"
    r"(?:[^\n]*(?:[;{]|\w\([^\n]*\)[ \t]*\{?)[ \t]*$"
    r"|[\w.$\[\]'\"]+[ \t]*(?:[-+*/%|&^]|//|\*\*)?=[ \t]*[^\s=][^\n]*)"
    r")"
)
#: Anchored on the newline before a line, not on ``(?m)^``: ``re`` finds a literal "\n"
#: fast, but tries ``^`` at every position.
_CODE_LINE = re.compile(r"\n" + _CODE_LINE_BODY, re.M)
_FIRST_CODE_LINE = re.compile(_CODE_LINE_BODY, re.M)


#: A command line quoted in prose: «выполните pip install torch, затем …».
_TOOLS = [
    "sudo",
    "pip",
    "pip3",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "git",
    "docker",
    "kubectl",
    "helm",
    "apt",
    "apt-get",
    "brew",
    "conda",
    "cargo",
    "ollama",
    "poetry",
    "uv",
    "curl",
    "wget",
    "python",
    "python3",
]
_COMMAND = re.compile(
    rf"(?:{'|'.join(sorted(_TOOLS, key=len, reverse=True))})(?:[ \t]+-m)?\b"
    r"(?:[ \t]+(?:-{1,2}[\w-]+(?:=[^\s,;]+)?|\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z0-9_./:@=+-]+))+"
)


@dataclass(frozen=True, slots=True)
class Regions:
    """Sorted, non-overlapping protected spans ``(start, end, kind)``.

    ``kind`` is ``"code"`` for fenced and inline code, otherwise what the span is.
    """

    spans: tuple[tuple[int, int, str], ...]

    @classmethod
    def find(cls, text: str) -> Regions:
        # Invisible characters and leaked tokens count as spaces here: ``fix`` removes them,
        # and a fence or a URL must be the same region before and after (or fixing twice
        # would differ).
        text = blank_special_tokens(blank_invisible(text))
        found: list[tuple[int, int, str]] = []
        if "```" in text or "~~~" in text:
            found += _fenced_blocks(text)
        # Inside a fenced block everything is code already: look for the other regions only
        # in the prose between blocks.
        pos = 0
        for start, end in [*((s, e) for s, e, _ in found), (len(text), len(text))]:
            if start > pos:
                prose = text[pos:start] if (pos, start) != (0, len(text)) else text
                found += [(s + pos, e + pos, k) for s, e, k in _prose_regions(prose)]
            pos = max(pos, end)
        return cls(_merge(found))

    def starts(self) -> list[int]:
        return [s for s, _, _ in self.spans]

    def covering(self, start: int, end: int, starts: list[int] | None = None) -> str | None:
        """Kind of the region that overlaps ``[start, end)``, or None."""
        if not self.spans:
            return None
        starts = starts if starts is not None else self.starts()
        i = bisect_right(starts, end - 1) - 1
        if i >= 0:
            s, e, kind = self.spans[i]
            if s < end and start < e:
                return kind
        return None

    def code_spans(self) -> list[tuple[int, int]]:
        return [(s, e) for s, e, k in self.spans if k == "code"]


def _prose_regions(text: str) -> list[tuple[int, int, str]]:
    """Every region but fenced blocks, in text that has none."""
    found: list[tuple[int, int, str]] = []
    if "`" in text:
        found += [(m.start(), m.end(), "code") for m in _INLINE_CODE.finditer(text)]
    found += _code_lines(text)
    if "." in text or "/" in text or "\\" in text:
        found += _urls(text)
        found += _free_before(text, _PATH, "path", r"\w/")
        found += _windows_paths(text)
        found += _head_and_tail(text, _FILE_TAIL, _NAME_HEAD, 80, "path")
        found += _head_and_tail(text, _DOMAIN_TAIL, _NAME_HEAD, 80, "url")
    found += _free_before(text, _COMMAND, "code", r"\w")
    if "@" in text:
        found += _head_and_tail(text, _EMAIL_TAIL, _EMAIL_HEAD, 64, "email")
    if "#" in text or "@" in text:
        found += _free_before(text, _HANDLE, "handle", r"\w#@")
    if "$" in text or "\\" in text:
        found += [(m.start(), m.end(), "latex") for p in _LATEX for m in p.finditer(text)]
    if "(" in text:
        found += _head_and_tail(text, _CALL_ARGS, _CALL_NAME, 31, "math")
    if "<" in text:
        found += [(m.start(), m.end(), "markup") for m in _TAG.finditer(text)]
    if "_" in text or "=" in text or "-" in text or "." in text:
        found += _identifiers(text)
    return found


def _code_lines(text: str) -> list[tuple[int, int, str]]:
    r"""Lines that look like code outside any fence.

    >>> _code_lines("Текст\n    return x\nx = 1;")
    [(6, 18, 'code'), (19, 25, 'code')]
    """
    found = []
    first = _FIRST_CODE_LINE.match(text)
    if first and first.end() > first.start():
        found.append((first.start(), first.end(), "code"))
    found += [
        (m.start() + 1, m.end(), "code")
        for m in _CODE_LINE.finditer(text)
        if m.end() > m.start() + 1
    ]
    return found


def _head_and_tail(
    text: str, tail: re.Pattern[str], head: re.Pattern[str], reach: int, kind: str
) -> list[tuple[int, int, str]]:
    """Spans found from a distinctive ``tail`` (``.py``, ``@host``, ``(x)``) and extended to
    the left by ``head``, searched in the ``reach`` characters before it: cheaper than a
    pattern whose first character could be any letter.

    >>> _head_and_tail("см. main.py и docs", _FILE_TAIL, _NAME_HEAD, 80, "path")
    [(4, 11, 'path')]
    >>> _head_and_tail("пишите на a.b@example.com!", _EMAIL_TAIL, _EMAIL_HEAD, 64, "email")
    [(10, 25, 'email')]
    >>> _head_and_tail("сложность O(n log n), а f(x)", _CALL_ARGS, _CALL_NAME, 31, "math")
    [(10, 20, 'math'), (24, 28, 'math')]
    """
    found = []
    for m in tail.finditer(text):
        start = head.search(text, max(0, m.start() - reach), m.start())
        if start:
            found.append((start.start(), m.end(), kind))
    return found


def _urls(text: str) -> list[tuple[int, int, str]]:
    """URLs, found from their "://" (scheme checked by hand) or their "www.".

    >>> _urls("см. https://a.io/x и www.b.ru")
    [(4, 18, 'url'), (21, 29, 'url')]
    """
    return _head_and_tail(text, _SCHEME_TAIL, _SCHEME, 6, "url") + _free_before(
        text, _WWW, "url", r"\w."
    )


def _identifiers(text: str) -> list[tuple[int, int, str]]:
    """Flags, dotted or snake_case names and key=value pairs.

    >>> [(s, e) for s, e, _ in _identifiers("см. model.eval(), learning_rate=0.1 и --force")]
    [(38, 45), (4, 16), (18, 31), (18, 35)]
    """
    found = _free_before(text, _FLAG, "identifier", r"\w-")
    done = -1
    for m in _JOINT.finditer(text):
        j = m.start()
        if (
            j <= done
            or not j
            or not (text[j - 1].isascii() and (text[j - 1].isalnum() or text[j - 1] == "_"))
        ):
            continue
        head = _IDENT_HEAD.search(text, max(0, j - 64), j)
        tail = _IDENT_TAIL.match(text, j)
        if head and tail:
            found.append((head.start(), tail.end(), "identifier"))
            done = tail.end()
    for m in _ASSIGN.finditer(text):
        head = _IDENT_HEAD.search(text, max(0, m.start() - 64), m.start())
        if head:
            found.append((head.start(), m.end(), "identifier"))
    return found


def _windows_paths(text: str) -> list[tuple[int, int, str]]:
    r"""``C:\Users\me``: found from ``:\`` and extended by the drive letter.

    >>> _windows_paths(r"см. C:\Users\me")
    [(4, 15, 'path')]
    """
    found = []
    for m in _WINDOWS_PATH.finditer(text):
        drive = text[m.start() - 1] if m.start() else ""
        if drive.isascii() and drive.isalpha():
            found.append((m.start() - 1, m.end(), "path"))
    return found


def _free_before(
    text: str, pattern: re.Pattern[str], kind: str, not_after: str
) -> list[tuple[int, int, str]]:
    """Matches of ``pattern`` not preceded by a character of the class ``not_after``.

    >>> _free_before("a/b x/y", _PATH, "path", r"\\w/")
    []
    >>> _free_before("см. /usr/bin", _PATH, "path", r"\\w/")
    [(4, 12, 'path')]
    """
    bad = _class(not_after)
    return [
        (m.start(), m.end(), kind)
        for m in pattern.finditer(text)
        if not m.start() or not bad.match(text, m.start() - 1)
    ]


@lru_cache(maxsize=16)
def _class(body: str) -> re.Pattern[str]:
    return re.compile(f"[{body}]")


def _fenced_blocks(text: str) -> list[tuple[int, int, str]]:
    """Fenced code blocks; an unclosed fence runs to the end of the text.

    >>> _fenced_blocks("a\\n```py\\nx\\n```\\nb")
    [(2, 13, 'code')]
    """
    blocks: list[tuple[int, int, str]] = []
    open_at: int | None = None
    marker = ""
    for m in _FENCE.finditer(text):
        fence = m.group(1)
        if open_at is None:
            open_at, marker = m.start(1), fence
        elif fence[0] == marker[0] and len(fence) >= len(marker):
            blocks.append((open_at, m.end(), "code"))
            open_at = None
    if open_at is not None:
        blocks.append((open_at, len(text), "code"))
    return blocks


#: Which kind names a merged span: the ones POLICY.md protects from fixes come first.
_RANK = {
    k: i
    for i, k in enumerate(
        ("code", "url", "email", "path", "latex", "math", "markup", "handle", "identifier")
    )
}


def _merge(spans: list[tuple[int, int, str]]) -> tuple[tuple[int, int, str], ...]:
    """Merge overlapping spans; the kind of highest rank (code first) names the result.

    >>> _merge([(0, 5, "url"), (3, 9, "code"), (12, 14, "path")])
    ((0, 9, 'code'), (12, 14, 'path'))
    """
    merged: list[tuple[int, int, str]] = []
    for s, e, k in sorted(spans):
        if s >= e:
            continue
        if merged and s < merged[-1][1]:
            ps, pe, pk = merged[-1]
            merged[-1] = (ps, max(pe, e), min(pk, k, key=_RANK.__getitem__))
        else:
            merged.append((s, e, k))
    return tuple(merged)
