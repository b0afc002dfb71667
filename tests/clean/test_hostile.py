"""langlock clean under hostile input and faults: a BOM, outputs that are one file, devices
and FIFOs as outputs, permissions, SIGTERM and kill -9, a truncated .gz, blank lines.
Nothing is lost, nothing is destroyed, and every line is accounted for."""

from __future__ import annotations

import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from langlock.clean.engines import CleanerSpec
from langlock.clean.pipeline import CleanRun, Paths, plan_run
from langlock.cli import app
from tests.clean.test_clean import GOOD, read_jsonl, run, write_jsonl

BOM = b"\xef\xbb\xbf"
ROOT = Path(__file__).resolve().parents[2]


def clean_cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["clean", *map(str, args), "--workers", "1"])


# ------------------------------------------------------------------------------ a BOM


def test_a_bom_does_not_lose_the_first_jsonl_record(tmp_path: Path) -> None:
    source = tmp_path / "b.jsonl"
    source.write_bytes(BOM + json.dumps({"id": 1, "text": GOOD}, ensure_ascii=False).encode())
    for mode in ("drop", "repair", "tag"):
        stats, paths = run(source, mode)
        assert stats.kept == 1 and stats.rejected == 0, mode
        assert read_jsonl(paths.kept)[0]["id"] == 1


def test_a_bom_does_not_lose_the_first_csv_column_or_text_line(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_bytes(BOM + f"text\n{GOOD}\n".encode())
    stats, paths = run(table)
    assert stats.kept == 1 and stats.rejected == 0
    assert paths.kept.read_text(encoding="utf-8").splitlines() == ["text", GOOD]

    lines = tmp_path / "t.txt"
    lines.write_bytes(BOM + f"{GOOD}\n{GOOD}\n".encode())
    stats, paths = run(lines)
    assert stats.kept == 2 and stats.rejected == 0  # no "invisible" U+FEFF finding

    whole = CleanRun(
        source=lines, paths=Paths.beside(lines, "text"), spec=CleanerSpec(), text_unit="file"
    )
    stats = whole.run()
    assert stats.kept == 1 and stats.rejected == 0


# ------------------------------------------------------------------------------ one file


def test_outputs_that_are_one_file_are_refused_before_reading(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "x.jsonl", [{"text": GOOD}, {"text": "项目"}])
    before = source.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(source)
    os.link(source, tmp_path / "hard.jsonl")
    same = {
        "output and rejects": {"kept": tmp_path / "o.jsonl", "rejects": tmp_path / "o.jsonl"},
        "output is the input": {"kept": source},
        "through a dot": {"kept": tmp_path / "." / "x.jsonl"},
        "through a symbolic link": {"kept": tmp_path / "link.jsonl"},
        "through a hard link": {"rejects": tmp_path / "hard.jsonl"},
        "stats and output": {"kept": tmp_path / "s.json", "stats": tmp_path / "s.json"},
    }
    for case, outputs in same.items():
        with pytest.raises(ValueError, match="are the same file"):
            plan_run(source, spec=CleanerSpec(), **outputs)  # type: ignore[arg-type]
        assert source.read_bytes() == before, case
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.jsonl", "link.jsonl", "x.jsonl"]

    result = clean_cli(source, "-o", tmp_path / "k.jsonl", "--rejects", tmp_path / "k.jsonl")
    assert result.exit_code == 2
    assert "--output and --rejects are the same file" in result.output
    assert not (tmp_path / "k.jsonl").exists()


# ------------------------------------------------------------------------------ devices


def test_a_fifo_output_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "x.jsonl", [{"text": GOOD}, {"text": "项目"}])
    fifo = tmp_path / "kept.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    paths = Paths(fifo, tmp_path / "r.jsonl", tmp_path / "s.json")
    stats = CleanRun(source=source, paths=paths, spec=CleanerSpec()).run()
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not a regular file
    assert stats.kept == 1 and received and json.loads(received[0])["text"] == GOOD
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_output_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "x.jsonl", [{"text": GOOD}, {"text": "项目"}])
    null = tmp_path / "null"  # /dev/null's twin: the real one must not be put at risk
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    result = clean_cli(source, "-o", null, "--rejects", null, "--stats", tmp_path / "s.json")
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == os.makedev(1, 3)
    assert json.loads((tmp_path / "s.json").read_text())["kept"] == 1


# ------------------------------------------------------------------------------ permissions


def test_outputs_get_the_permissions_of_a_plain_open(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "x.jsonl", [{"text": GOOD}, {"text": "项目"}])
    old = os.umask(0o027)
    try:
        _, paths = run(source)
    finally:
        os.umask(old)
    for path in (paths.kept, paths.rejects, paths.stats):
        assert oct(stat.S_IMODE(path.stat().st_mode)) == oct(0o640), path
    paths.kept.chmod(0o604)  # an existing output keeps its own mode, as with open()
    run(source)
    assert oct(stat.S_IMODE(paths.kept.stat().st_mode)) == oct(0o604)


# ------------------------------------------------------------------------------ signals


def big_corpus(path: Path, records: int = 200_000) -> Path:
    line = json.dumps({"text": GOOD + " Ещё одно предложение."}, ensure_ascii=False) + "\n"
    path.write_text(line * records, encoding="utf-8")
    return path


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def start_clean(source: Path) -> subprocess.Popen[bytes]:
    """``langlock clean`` with two workers in a process group of its own."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-m", "langlock", "clean", str(source), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )


def wait_for_kept_bytes(folder: Path, process: subprocess.Popen[bytes]) -> None:
    """Wait until the workers' first results are in a temporary file: the run is underway."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.stat().st_size for p in temps(folder) if ".clean." in p.name):
            return
        time.sleep(0.05)
    raise AssertionError(f"the run never got going: {process.communicate()}")


@pytest.mark.parametrize("target", ["group", "main"])
def test_sigterm_cleans_up_and_exits_143(tmp_path: Path, target: str) -> None:
    """``timeout``/systemd/Kubernetes send SIGTERM to the group (or to the main process):
    temporary files are removed, the run exits 143 with one line and no traceback."""
    source = big_corpus(tmp_path / "big.jsonl")
    process = start_clean(source)
    wait_for_kept_bytes(tmp_path, process)
    if target == "group":
        os.killpg(process.pid, signal.SIGTERM)
    else:
        os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert process.returncode == 143, err.decode()
    assert lines == ["terminated: no output was written"], err.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]


def test_temp_files_a_killed_run_left_are_removed_by_the_next(tmp_path: Path) -> None:
    source = big_corpus(tmp_path / "big.jsonl")
    process = start_clean(source)
    wait_for_kept_bytes(tmp_path, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    left = temps(tmp_path)
    assert left  # kill -9 cannot be handled: this is the debris
    legacy = tmp_path / ".big.clean.jsonl.ab_12cd3.tmp"  # an older version's name: no pid
    legacy.write_bytes(b"x")
    live = tmp_path / f".big.clean.jsonl.{os.getpid()}.abcd1234.tmp"  # a live run's: kept
    live.write_bytes(b"x")
    other = tmp_path / ".notes.abcd1234.tmp"  # not beside one of our outputs: not ours
    other.write_bytes(b"x")
    source.write_text(json.dumps({"text": GOOD}, ensure_ascii=False) + "\n", encoding="utf-8")
    run(source)
    assert sorted(temps(tmp_path)) == sorted([live, other])


# ------------------------------------------------------------------------------ truncated


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_a_truncated_input_names_the_file_the_byte_and_the_lines_read(
    tmp_path: Path, suffix: str
) -> None:
    """gzip said only "Aborted!"; zstandard's reader stopped quietly, records lost."""
    data = "".join(
        json.dumps({"text": f"{GOOD} {n}"}, ensure_ascii=False) + "\n" for n in range(30_000)
    ).encode()
    if suffix == ".gz":
        packed = gzip.compress(data, mtime=0)
    else:
        import zstandard

        packed = zstandard.ZstdCompressor().compress(data)
    source = tmp_path / f"cut.jsonl{suffix}"
    source.write_bytes(packed[: len(packed) * 2 // 3])
    result = clean_cli(source)
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert f"cut.jsonl{suffix} is truncated or corrupt at byte" in output
    assert f"of {len(packed) * 2 // 3:,}" in output
    assert "lines" in output and "were read before it: nothing was written" in output
    assert "Aborted" not in output
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


# ------------------------------------------------------------------------------ blank lines


def test_blank_lines_are_counted_so_every_line_adds_up(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "x.jsonl", [{"text": GOOD}], b"\n   \n\t\r\n" + b'{"text": "\xe9\xa1\xb9"}\n\n'
    )
    stats, paths = run(source)
    summary = json.loads(paths.stats.read_text())
    assert (summary["records_in"], summary["kept"], summary["rejected"]) == (6, 1, 1)
    assert summary["blank"] == 4 and summary["balanced"]

    text = tmp_path / "t.txt"
    text.write_text(f"{GOOD}\n\n \n{GOOD}\n", encoding="utf-8")
    stats, _ = run(text)
    assert (stats.records_in, stats.kept, stats.blank) == (4, 2, 2)
    result = clean_cli(text)
    assert "4 in = 2 kept" in result.output and "+ 2 blank" in result.output
