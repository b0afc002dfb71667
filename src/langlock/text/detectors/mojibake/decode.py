"""Decoding: undo one layer of damage at a time, and search for the repair that yields
clean text of the target language."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from langlock.text.detectors.mojibake.families import (
    _PUNCT_OK,
    _has_seed,
    _Profile,
    _table,
    _utf8_len,
    _Utf8Family,
    codec_names,
)
from langlock.text.detectors.mojibake.legacy import _legacy_whole

_MAX_ROUNDS = 3
_FTFY_MAX = 1 << 16  # longer candidates skip ftfy (about 0.8 s/MB); our tables cover them

# Verdicts on a repaired string.
_NO, _SEEDED, _CLEAN = range(3)

_Steps = tuple[tuple[str, str], ...]  # (real encoding, shown encoding), outermost first


# --------------------------------------------------------------------------- decoding


def _utf8_bytes(s: str, fam: _Utf8Family) -> bytes | None:
    """The bytes ``s`` came from if it is UTF-8 shown in ``fam``'s code page, else None.

    A plain space (or U+FFFD) is read as the lost continuation byte only where UTF-8
    needs a continuation byte.

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> f = _profile(default_alphabet()).utf8[1]
    >>> _utf8_bytes("Р РѕСЃ", f).decode()
    'Рос'
    """
    if s.translate(fam.known):
        return None  # a character the code page does not have
    if "\ufffd" in s:
        return _utf8_bytes_alias(s, fam)
    raw = s.translate(fam.to_bytes).encode("latin-1")
    if " " in fam.alias and " " in s:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return _utf8_bytes_alias(s, fam)
    return raw


def _utf8_bytes_alias(s: str, fam: _Utf8Family) -> bytes | None:
    """``_utf8_bytes`` the slow way, reading aliases where a continuation byte is due.

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> _utf8_bytes_alias("Р С", _profile(default_alphabet()).utf8[1])
    b'\\xd0\\xa0\\xd1'
    """
    out = bytearray()
    need = 0
    table, alias = fam.table, fam.alias
    for ch in s:
        b = table.get(ch)
        if need and (b is None or b < 0x80) and ch in alias:
            b = alias[ch]
        if b is None:
            return None
        out.append(b)
        if need and 0x80 <= b <= 0xBF:
            need -= 1
        else:
            need = max(_utf8_len(b) - 1, 0)
    return bytes(out)


def _label(fam: _Utf8Family, s: str) -> str:
    """Name of the code page of ``fam`` that shows ``s`` (Latin-1 when C1 controls occur).

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> f = _profile(default_alphabet()).utf8[0]
    >>> _label(f, "Ð\\x9f"), _label(f, "ÐŸ")
    ('Latin-1', 'Windows-1252')
    """
    if len(fam.codecs) > 1:
        first = _table(fam.codecs[:1])
        if any(ch not in first or "\x80" <= ch <= "\x9f" for ch in s if not ch.isascii()):
            return codec_names().get(fam.codecs[1], fam.codecs[1])
    return codec_names().get(fam.codecs[0], fam.codecs[0])


def _ftfy_step(s: str) -> tuple[str, _Steps] | None:
    """ftfy's repair of ``s`` with the (real, shown) encodings it undid, outermost first.

    >>> _ftfy_step("ÐŸÑ€Ð¸Ð²ÐµÑ‚")
    ('Привет', (('UTF-8', 'Windows-1252'),))
    """
    import ftfy  # imported on first need: clean text never gets here

    try:
        fixed, plan = ftfy.fix_encoding_and_explain(s)
    except Exception:  # a third party must never break the checker
        return None
    steps: list[tuple[str, str]] = []
    pending: str | None = None
    for action, arg in plan or ():
        if action == "encode":
            pending = arg
        elif action == "decode" and pending is not None:
            if not arg.startswith("utf-8"):
                return None  # ftfy's C1-control clean-up, not a decoding we can vouch for
            steps.append(("UTF-8", codec_names().get(pending, pending)))
            pending = None
    if not steps or fixed == s:
        return None
    return fixed, tuple(steps)


def _one_round(
    s: str, prof: _Profile, use_ftfy: bool, use_legacy: bool
) -> Iterator[tuple[str, _Steps]]:
    """Every single repair of ``s`` that decodes cleanly, with the encodings it undid."""
    if use_ftfy and len(s) <= _FTFY_MAX:
        r = _ftfy_step(s)
        if r is not None:
            yield r
    for fam in prof.utf8:
        b = _utf8_bytes(s, fam)
        if b is None or b.isascii():
            continue
        try:
            out = b.decode("utf-8")
        except UnicodeDecodeError:
            continue
        yield out, (("UTF-8", _label(fam, s)),)
    if use_legacy and prof.lang is not None:
        for lfam in prof.legacy:
            fixed = _legacy_whole(s, lfam, prof.lang)
            if fixed is not None:
                yield fixed, ((codec_names()[lfam.real], codec_names()[lfam.shown]),)


def _verdict(fixed: str, prof: _Profile, min_letters: int, src_len: int = 0) -> int:
    """Is ``fixed`` text of the target language (clean), still damaged (seeded), or not?

    Clean text has at least ``min_letters`` letters of the alphabet and few other non-ASCII
    letters or symbols; or no letters at all but punctuation that took three UTF-8 bytes
    (so, when the source length ``src_len`` is given, three source characters each).

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> p = _profile(default_alphabet())
    >>> _verdict("Привет", p, 2), _verdict("Ѹ", p, 2), _verdict("«", p, 2, 2)
    (2, 0, 0)
    >>> _verdict("—", p, 2, src_len=3), _verdict("—", p, 2, src_len=2)
    (2, 0)
    """
    without_target = fixed.translate(prof.drop_target)
    target = len(fixed) - len(without_target)
    other = 0
    for ch in without_target.translate(prof.drop_plain):  # what is left is rare: judge it
        if ch.isalpha():
            other += 1
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "C" or ch == "\ufffd":
            return _NO
        if cat in ("So", "Sk", "Lm") or cat[0] == "M":
            other += 1
    if target < min_letters or other * 4 > target:
        punct3 = any(ord(ch) >= 0x800 and ch in _PUNCT_OK for ch in without_target)
        if target or other or not punct3 or src_len < 3 * len(fixed.strip()):
            return _NO
    return _SEEDED if _has_seed(fixed, prof) else _CLEAN


def _explain(steps: _Steps) -> str:
    """One line naming the damage; ``steps`` are (real, shown) pairs, outermost first.

    >>> _explain((("UTF-8", "Mac-Roman"),))
    'UTF-8 bytes decoded as Mac-Roman'
    >>> _explain((("UTF-8", "Windows-1252"), ("UTF-8", "Windows-1251")))
    'double mojibake: UTF-8 bytes decoded as Windows-1251, then as Windows-1252'
    """
    order = list(reversed(steps))  # the order the damage was done in
    first = f"{order[0][0]} bytes decoded as {order[0][1]}"
    if len(order) == 1:
        return first
    if len(set(order)) == 1:
        times = {2: "twice", 3: "three times"}.get(len(order), f"{len(order)} times")
        return f"{first}, {times} over (mojibake of mojibake)"
    rest = ", then as ".join(
        shown if real == "UTF-8" else f"{shown} ({real} bytes)" for real, shown in order[1:]
    )
    kind = "double" if len(order) == 2 else "triple"
    return f"{kind} mojibake: {first}, then as {rest}"


def _search(
    s: str, prof: _Profile, min_letters: int, utf8_first: bool = True
) -> tuple[str, str] | None:
    """Repair ``s`` breadth-first for up to three rounds: (fixed, explanation) or None.

    With ``utf8_first`` (spans found by a UTF-8 grammar) the outermost layer must be a UTF-8
    misreading; legacy 8-bit mix-ups are then only tried as inner layers."""
    frontier: list[tuple[str, _Steps]] = [(s, ())]
    seen = {s}
    fallback: tuple[str, str] | None = None
    for _ in range(_MAX_ROUNDS):
        nxt: list[tuple[str, _Steps]] = []
        for cur, steps in frontier:
            first = not steps
            for fixed, step in _one_round(cur, prof, first, not (first and utf8_first)):
                path = steps + step
                if fixed in seen or len(path) > _MAX_ROUNDS:
                    continue
                seen.add(fixed)
                v = _verdict(fixed, prof, min_letters, len(s))
                if v == _CLEAN:
                    return fixed, _explain(path)
                if v == _SEEDED and fallback is None:
                    fallback = (fixed, _explain(path))
                nxt.append((fixed, path))
        frontier = nxt[:8]
        if not frontier:
            break
    return fallback
