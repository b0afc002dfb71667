"""Spans: where in a text the mojibake is, each run with its repair; the public API."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from langlock.text.detectors.mojibake.decode import _NO, _search, _utf8_bytes, _verdict
from langlock.text.detectors.mojibake.families import (
    _MAX_GAP,
    _has_seed,
    _LegacyFamily,
    _Profile,
    _profile,
    _seeded_families,
    _seeded_lines,
    _Utf8Family,
    codec_names,
    default_alphabet,
)
from langlock.text.detectors.mojibake.legacy import (
    _BAD,
    _NEUTRAL,
    _legacy_decode,
    _segment_ok,
    _word_class,
)


@dataclass(frozen=True, slots=True)
class MojibakeSpan:
    """One run of mojibake and its repair; offsets are code points into the input.

    >>> MojibakeSpan(0, 2, "Ð¿", "п", "UTF-8 bytes decoded as Windows-1252").fixed
    'п'
    """

    start: int
    end: int
    text: str
    fixed: str
    explanation: str


# --------------------------------------------------------------------------- spans


def _quick_ok(word: str, fam: _Utf8Family, prof: _Profile) -> bool:
    """Whether one word decodes as UTF-8 shown in ``fam`` to target letters (or to more
    mojibake, for double damage); cheap enough to run on every word of a long span.

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> p = _profile(default_alphabet())
    >>> _quick_ok("Рё", p.utf8[1], p), _quick_ok("Сё", p.utf8[1], p)
    (True, False)
    """
    b = _utf8_bytes(word, fam)
    if b is None:
        return False
    try:
        out = b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _verdict(out, prof, 1, len(word)) != _NO or _has_seed(out, prof)


def _utf8_candidate(
    line: str, a: int, b: int, fam: _Utf8Family, prof: _Profile
) -> list[MojibakeSpan]:
    """Repair ``line[a:b]``, a match of ``fam``'s grammar. When it fails as a whole, it is
    split into its words and the runs of words that decode are tried on their own."""
    chunk = line[a:b]
    if not _has_seed(chunk, prof):
        return []
    r = _search(chunk, prof, min_letters=2)
    if r is not None:
        return [MojibakeSpan(a, b, chunk, *r)]
    words = list(fam.word_re.finditer(line, a, b))
    if len(words) < 2:
        return []
    ok = [_quick_ok(w.group(), fam, prof) for w in words]
    found: list[MojibakeSpan] = []
    i = 0
    while i < len(words):
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and ok[j + 1]:
            j += 1
        sa, sb = words[i].start(), words[j].end()
        sub = line[sa:sb]
        r = _search(sub, prof, min_letters=2) if _has_seed(sub, prof) else None
        if r is not None:
            found.append(MojibakeSpan(sa, sb, sub, *r))
        i = j + 1
    return found


def _gap_ok(gap: str) -> bool:
    """Whether two words separated by ``gap`` may belong to one legacy span.

    >>> _gap_ok(", "), _gap_ok("\\n"), _gap_ok(" ╚"), _gap_ok(" и ")
    (True, False, True, False)
    """
    if len(gap) > _MAX_GAP or "\n" in gap:
        return False
    return all(ch.isascii() or not ch.isalpha() for ch in gap)


def _legacy_spans(
    line: str, fam: _LegacyFamily, prof: _Profile, taken: _Taken
) -> list[MojibakeSpan]:
    """Spans of one legacy 8-bit mix-up in one line, judged word by word with the lexicon;
    words inside spans already ``taken`` are skipped."""
    lang = prof.lang or ""  # legacy families exist only where a lexicon language does
    ms = [m for m in fam.word_re.finditer(line) if taken.free(m.start(), m.end())]
    befores = [m.group() for m in ms]
    afters = [b.translate(fam.trans) for b in befores]
    classes = [_word_class(b, a, fam, lang) for b, a in zip(befores, afters, strict=True)]
    found: list[MojibakeSpan] = []
    i, n = 0, len(ms)
    while i < n:
        if classes[i] in (_BAD, _NEUTRAL):
            i += 1
            continue
        j = i
        while (
            j + 1 < n
            and classes[j + 1] != _BAD
            and _gap_ok(line[ms[j].end() : ms[j + 1].start()])
            and taken.free(ms[j].end(), ms[j + 1].start())
        ):
            j += 1
        while classes[j] == _NEUTRAL:
            j -= 1
        seg = slice(i, j + 1)
        if _segment_ok(classes[seg], befores[seg], afters[seg], fam):
            a, b = ms[i].start(), ms[j].end()
            chunk = line[a:b]
            fixed = _legacy_decode(chunk, fam, strict=False)
            if fam.seed_re.search(chunk) and fixed and _verdict(fixed, prof, 2) != _NO:
                expl = f"{codec_names()[fam.real]} bytes decoded as {codec_names()[fam.shown]}"
                found.append(MojibakeSpan(a, b, chunk, fixed, expl))
        i = j + 1
    return found


class _Taken:
    """Non-overlapping [start, end) intervals with a logarithmic overlap test.

    >>> t = _Taken()
    >>> t.add(2, 5)
    >>> t.free(0, 2), t.free(4, 6), t.free(5, 9)
    (True, False, True)
    """

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def free(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return False
        return i == len(self.starts) or self.starts[i] >= end

    def add(self, start: int, end: int) -> None:
        i = bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def _line_spans(line: str, offset: int, prof: _Profile) -> list[MojibakeSpan]:
    """All spans in one line: UTF-8 candidates longest first (a shorter candidate that
    overlaps an accepted span is not even decoded), then legacy mix-ups in what is left."""
    fams = _seeded_families(line, prof)
    cands = [
        (m.start(), m.end(), fam)
        for fam in fams
        if isinstance(fam, _Utf8Family)
        for m in fam.span_re.finditer(line)
    ]
    cands.sort(key=lambda c: (c[0] - c[1], c[0]))
    taken = _Taken()
    found: list[MojibakeSpan] = []
    for a, b, fam in cands:
        if not taken.free(a, b):
            continue
        for sp in _utf8_candidate(line, a, b, fam, prof):
            if taken.free(sp.start, sp.end):
                taken.add(sp.start, sp.end)
                found.append(sp)
    for lfam in fams:
        if isinstance(lfam, _LegacyFamily):
            for sp in _legacy_spans(line, lfam, prof, taken):
                if taken.free(sp.start, sp.end):
                    taken.add(sp.start, sp.end)
                    found.append(sp)
    found.sort(key=lambda x: x.start)
    if offset:
        found = [
            MojibakeSpan(x.start + offset, x.end + offset, x.text, x.fixed, x.explanation)
            for x in found
        ]
    return found


# --------------------------------------------------------------------------- public API


def repair(s: str, alphabet: str | None = None) -> tuple[str, str] | None:
    """Repair one mojibake string: (fixed, explanation), or None when it is not mojibake.

    ``s`` must hold at least one tell-tale pattern of a family (``Р·Р°`` alone, for
    ``за``, does not).

    >>> repair("–ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è")
    ('Как бороться', 'UTF-8 bytes decoded as Mac-Roman')
    >>> repair("РџСЂРёРІРµС‚")[0], repair("оПХБЕР")[1]
    ('Привет', 'Windows-1251 bytes decoded as KOI8-R')
    >>> repair("Привет") is None, repair("Ð¸") is None
    (True, True)
    """
    if not isinstance(s, str) or s.isascii():
        return None
    prof = _profile(default_alphabet() if alphabet is None else alphabet)
    if not _has_seed(s, prof):
        return None
    return _search(s, prof, min_letters=2, utf8_first=False)


def find_mojibake(text: str, alphabet: str | None = None) -> list[MojibakeSpan]:
    """Spans of mojibake in ``text``, each with its repair.

    ``alphabet`` holds the lowercase letters of the target language (by default the default
    target's, ``default_alphabet()``); a repair counts only when it yields mostly letters of
    that alphabet (or plain ASCII and punctuation), which
    keeps real text from being "repaired". Spans are sorted and never overlap; a span
    never crosses a line break.

    >>> [(s.start, s.end, s.fixed) for s in find_mojibake("Ответ: –ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è?")]
    [(7, 30, 'Как бороться')]
    >>> find_mojibake("Россия, Сергей, РСФСР. С уважением — «Привет»!")
    []
    """
    if not isinstance(text, str) or text.isascii():
        return []
    prof = _profile(default_alphabet() if alphabet is None else alphabet)
    spans: list[MojibakeSpan] = []
    for start, end in _seeded_lines(text, prof):
        spans.extend(_line_spans(text[start:end], start, prof))
    return spans
