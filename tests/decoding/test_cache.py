"""The on-disk cache of token tables and masks: same results, damaged files rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

from langlock.decoding import cache  # noqa: E402
from langlock.decoding.masks import MaskCompiler, ScriptRule  # noqa: E402
from langlock.decoding.token_bytes import TokenTable  # noqa: E402
from langlock.policy import Policy  # noqa: E402

TABLE = TokenTable(
    pieces=(b"", "при".encode(), "中".encode(), b"\xe5", b"hi", b"", b" x"),
    special=frozenset({0, 5}),
    kind="sentencepiece",
    add_space_prefix=True,
)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LANGLOCK_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_table_round_trips_through_the_cache(cache_dir: Path) -> None:
    builds: list[int] = []

    def build() -> TokenTable:
        builds.append(1)
        return TABLE

    assert cache.cached_table("k", build) == TABLE
    assert cache.cached_table("k", build) == TABLE
    assert len(builds) == 1 and (cache_dir / "tables" / "k.npz").is_file()


def test_damaged_cache_files_are_rebuilt(cache_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    (cache_dir / "tables").mkdir()
    (cache_dir / "tables" / "k.npz").write_bytes(b"not a zip")
    assert cache.cached_table("k", lambda: TABLE) == TABLE
    assert "unreadable cache file" in caplog.text
    assert cache.cached_table("k", lambda: TokenTable((), frozenset(), "byte-level")) == TABLE


def test_file_key_follows_the_file(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"a")
    first = cache.file_key(model)
    model.write_bytes(b"ab")
    assert first and cache.file_key(model) not in (None, first)
    assert cache.file_key(tmp_path / "missing") is None


def test_masks_from_the_cache_equal_fresh_ones(cache_dir: Path) -> None:
    rule = ScriptRule.from_policy(Policy.from_options(preset="standard"))
    fresh = MaskCompiler(TABLE, rule, cache=False)
    first = MaskCompiler(TABLE, rule)
    assert first.allowed("prose") == fresh.allowed("prose")
    assert list((cache_dir / "masks").glob("*.npz"))
    cached = MaskCompiler(TABLE, rule)
    cached.token_ok = None  # type: ignore[method-assign,assignment]  # must not be needed
    for mode in ("prose", "code", "url"):
        assert cached.allowed(mode) == fresh.allowed(mode)  # type: ignore[arg-type]
    assert (cached.latin_array() == fresh.latin_array()).all()
    strict = MaskCompiler(TABLE, ScriptRule.from_policy(Policy.from_options(preset="strict")))
    assert strict.allowed("prose") != cached.allowed("prose")  # another rule, another entry


def test_cache_can_be_turned_off(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGLOCK_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    assert cache.cached_table("k", lambda: TABLE) == TABLE
    assert not list(cache_dir.iterdir())


@pytest.mark.slow
def test_bundled_table_and_masks_load_from_the_cache(cache_dir: Path) -> None:
    from langlock.decoding.bundled import bundled_model_path
    from langlock.decoding.token_bytes import from_gguf

    path = bundled_model_path()
    built = cache.cached_table(cache.file_key(path), lambda: from_gguf(path))
    loaded = cache.cached_table(cache.file_key(path), lambda: from_gguf(path))
    assert loaded == built
    rule = ScriptRule.from_policy(Policy.from_options(preset="strict"))
    MaskCompiler(built, rule).allowed_array("prose")
    again = MaskCompiler(loaded, rule)
    # A rebuild would judge tokens again: with token_ok gone it would fail, so the arrays
    # below can only have come from the cache (speed is for benchmarks/lock_overhead.py).
    again.token_ok = None  # type: ignore[method-assign,assignment]
    assert again.allowed_array("prose").sum() > 10_000  # Cyrillic, digits, punctuation
