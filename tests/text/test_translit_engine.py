"""Translit engine: cheap import, its data file, lexicon fallbacks, caches, and precision/recall
over the evaluation set (run pytest with ``-s`` to see the numbers)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from langlock.text.detectors.translit import (
    TranslitDetector,
    cyrillic_candidates,
    to_cyrillic,
)
from tests.text.translit_cases import (
    LONE_POSITIVES,
    NEGATIVE_SETS,
    POSITIVES,
    english_sentences,
    hits_of,
    latin_words,
    same,
)

MODULE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "langlock"
    / "text"
    / "detectors"
    / "translit"
    / "__init__.py"
)
DATA = Path(__file__).resolve().parents[2] / "src" / "langlock" / "data" / "translit" / "ru.toml"


# ------------------------------------------------------------------- cheap import, speed


def test_import_is_cheap() -> None:
    """Loading the module reads no data and imports neither pymorphy3 nor wordfreq."""
    code = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("translit_probe", {str(MODULE)!r})
        mod = importlib.util.module_from_spec(spec)
        sys.modules["translit_probe"] = mod
        spec.loader.exec_module(mod)
        det = mod.TranslitDetector()
        assert "pymorphy3" not in sys.modules and "wordfreq" not in sys.modules
        assert mod._load_scheme.cache_info().currsize == 0
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_data_file_is_complete() -> None:
    import tomllib

    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    assert {"bgn_pcgn", "icao_9303", "iso9", "gost_7_79_b", "scholarly"} <= set(raw["schemes"])
    spec = importlib.util.spec_from_file_location("translit_data_probe", MODULE)
    assert spec is not None
    from langlock.text.detectors.translit.scheme import _load_scheme

    sch = _load_scheme("ru")
    assert sch is not None
    reachable = {o.cyr for opts in sch.options.values() for o in opts for _ in [0]}
    letters = set("".join(reachable))
    assert set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя") <= letters
    assert all(o.cost >= 0 for opts in sch.options.values() for o in opts)


def test_thresholds_live_in_the_data_file() -> None:
    import tomllib

    from langlock.text.detectors.translit import scheme as translit

    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    assert set(translit._DEFAULT_THRESHOLDS) <= set(raw["detector"])


def _clear_caches(mod: types.ModuleType) -> None:
    for fn in (mod._lexicon, mod._best_reading, mod._evidence):
        fn.cache_clear()


def test_exact_lookup_fallback_when_dawg_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """If pymorphy3's DAWG internals change, readings still come through word_is_known."""
    from langlock.text.detectors.translit import readings as translit

    morph = translit._morph("ru")
    lex = translit._Lexicon(lambda w: bool(morph.word_is_known(w, strict=True)))
    _clear_caches(translit)
    monkeypatch.setattr(translit, "_lexicon", lambda lang: lex)
    try:
        assert to_cyrillic("pozhaluysta") == "пожалуйста"
        assert to_cyrillic("zhizn") == "жизнь"
        assert [h.cyrillic for h in hits_of(TranslitDetector(), "ya ne znayu")] == [
            "я",
            "не",
            "знаю",
        ]
    finally:
        monkeypatch.undo()
        _clear_caches(translit)


def test_no_lexicon_means_no_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    from langlock.text.detectors.translit import readings as translit

    _clear_caches(translit)
    monkeypatch.setattr(translit, "_morph", lambda lang: None)
    try:
        assert TranslitDetector().find([(0, 7, "spasibo")]) == []
        assert to_cyrillic("spasibo") is None
        assert cyrillic_candidates("spasibo")[0] == "спасибо"  # schemes need no lexicon
    finally:
        monkeypatch.undo()
        _clear_caches(translit)


def test_cache_serves_repeated_words(det: TranslitDetector) -> None:
    """A word seen before is answered from the cache: far cheaper than a fresh one (a
    relative check; absolute speed belongs to the benchmarks)."""
    from wordfreq import top_n_list

    det.find([(0, 6, "privet")])  # load the lexicons
    fresh = [w for w in top_n_list("en", 40000)[30000:30400] if w.isalpha()]
    start = time.perf_counter()
    for i, w in enumerate(fresh):
        det.find([(i * 20, i * 20 + len(w), w)])
    per_word = (time.perf_counter() - start) / len(fresh)
    start = time.perf_counter()
    for i, w in enumerate(fresh):
        det.find([(i * 20, i * 20 + len(w), w)])
    cached = (time.perf_counter() - start) / len(fresh)
    assert cached < per_word / 3


# ------------------------------------------------------------------ precision / recall


def test_report_precision_recall(det: TranslitDetector) -> None:
    """Word-level precision/recall over all the lists above (printed with ``-s``)."""
    tp = fn = wrong_fix = 0
    for text, expected in POSITIVES:
        got = {h.start: h for h in hits_of(det, text)}
        for (start, _, _), cyr in zip(latin_words(text), expected.split(), strict=True):
            if cyr == "?":
                continue
            if start in got:
                tp += 1
                wrong_fix += not same(got[start].cyrillic, cyr)
            else:
                fn += 1
    lone_tp = sum(1 for text, _ in LONE_POSITIVES if hits_of(det, text))
    fp = negatives = 0
    per_set: dict[str, tuple[int, int]] = {}
    for name, texts in [("english_random", english_sentences()), *NEGATIVE_SETS.items()]:
        words = sum(len(latin_words(t)) for t in texts)
        false = sum(len(hits_of(det, t)) for t in texts)
        per_set[name] = (false, words)
        fp += false
        negatives += words
    tp_all = tp + lone_tp
    precision = tp_all / (tp_all + fp)
    recall = tp / (tp + fn)
    print(
        f"\ntranslit phrases: recall {tp}/{tp + fn} = {recall:.3f}, "
        f"wrong fixes {wrong_fix}; lone words {lone_tp}/{len(LONE_POSITIVES)}"
    )
    print(f"translit negatives: {fp} false hits in {negatives} words; precision {precision:.3f}")
    for name, (false, words) in per_set.items():
        print(f"  {name}: {false}/{words}")
    assert precision >= 0.99
    assert recall >= 0.95
    assert wrong_fix <= 2
    assert lone_tp >= len(LONE_POSITIVES) - 1
