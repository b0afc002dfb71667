"""langlock clean on real files of every input kind and record format, in every mode; local
and Ray give the same results; nothing is ever lost; outputs are atomic and reproducible."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langlock.clean.engines import CleanerSpec
from langlock.clean.pipeline import CleanRun, Paths
from langlock.clean.readers import input_kind, piece_items, read_items, read_pieces
from tests.support import ray_head

GOOD = "Docker — это платформа для запуска приложений в контейнерах."
BAD_SCRIPT = "Это хороший ответ 项目 на вопрос."
HOMOGLYPH = "Это закон Макcвелла."  # a Latin c: repairable
CHAT = [
    {
        "messages": [
            {"role": "user", "content": "Что такое Docker?"},
            {"role": "assistant", "content": GOOD},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Привет"},
            {"role": "assistant", "content": BAD_SCRIPT},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Кто он?"},
            {"role": "assistant", "content": HOMOGLYPH},
        ]
    },
    # The user asks for English: the English answer is what was asked for.
    {
        "messages": [
            {"role": "user", "content": "Переведи на английский: кошка"},
            {"role": "assistant", "content": "Cat."},
        ]
    },
]


def run(source: Path, mode: str = "drop", engine: str = "inline", workers: int = 1, **spec: Any):  # type: ignore[no-untyped-def]
    kind = input_kind(source)
    paths = Paths.beside(source, kind)
    cleaner = CleanerSpec(mode=mode, **spec)
    clean_run = CleanRun(source=source, paths=paths, spec=cleaner, engine=engine, workers=workers)
    stats = clean_run.run()
    return stats, paths


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        return [json.loads(line) for line in handle]


def write_jsonl(path: Path, records: list[dict[str, Any]], extra: bytes = b"") -> Path:
    data = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records) + extra
    if path.suffix == ".gz":
        data = gzip.compress(data)
    elif path.suffix == ".zst":
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("mode", ["drop", "repair", "tag"])
def test_modes_on_chat_records(tmp_path: Path, mode: str) -> None:
    stats, paths = run(write_jsonl(tmp_path / "chat.jsonl", CHAT), mode)
    kept = read_jsonl(paths.kept)
    rejected = read_jsonl(paths.rejects)
    assert stats.records_in == 4 == len(kept) + len(rejected)
    answers = [r["messages"][1]["content"] for r in kept]
    if mode == "drop":
        assert answers == [GOOD, "Cat."]
        assert {r["source"] for r in rejected} == {"chat.jsonl:2", "chat.jsonl:3"}
    elif mode == "repair":
        assert answers == [GOOD, "Это закон Максвелла.", "Cat."] and stats.repaired == 1
        assert "foreign_script" in rejected[0]["reason"]
    else:
        assert len(kept) == 4 and [r["langlock"]["ok"] for r in kept] == [True, False, False, True]
    summary = json.loads(paths.stats.read_text(encoding="utf-8"))
    assert summary["balanced"] and summary["records_in"] == 4


def test_every_record_format(tmp_path: Path) -> None:
    records = [
        {"text": GOOD},
        {"instruction": "Объясни", "input": "", "output": BAD_SCRIPT},
        {"conversations": [{"from": "human", "value": "Вопрос"}, {"from": "gpt", "value": GOOD}]},
        {"prompt": "Вопрос", "chosen": GOOD, "rejected": "Bad English answer."},
        {"prompt": "Вопрос", "chosen": BAD_SCRIPT, "rejected": GOOD},
        {"unknown": "format"},
    ]
    stats, paths = run(write_jsonl(tmp_path / "mixed.jsonl", records))
    kept = read_jsonl(paths.kept)
    assert kept == [records[0], records[2], records[3]]  # `rejected` answers are not checked
    reasons = [r["reason"] for r in read_jsonl(paths.rejects)]
    assert reasons[0].startswith("output: foreign_script")
    assert reasons[1].startswith("chosen: foreign_script")
    assert reasons[2].startswith("format: unknown record format")
    assert stats.bad_format == 1


def test_roles_option_checks_user_turns_too(tmp_path: Path) -> None:
    record = {
        "messages": [
            {"role": "user", "content": BAD_SCRIPT},
            {"role": "assistant", "content": GOOD},
        ]
    }
    source = write_jsonl(tmp_path / "c.jsonl", [record])
    assert run(source)[0].kept == 1
    assert run(source, roles=("user", "assistant"))[0].rejected == 1


def test_malformed_and_undecodable_lines_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    extra = (
        b'{"text": "unterminated\n\xff\xfe{"text": 1}\n[1, 2]\n\n{"text": "'
        + GOOD.encode()
        + b'"}\n'
    )
    source = write_jsonl(tmp_path / "bad.jsonl", CHAT[:1], extra)
    stats, paths = run(source)
    rejected = read_jsonl(paths.rejects)
    assert [r["source"] for r in rejected] == ["bad.jsonl:2", "bad.jsonl:3", "bad.jsonl:4"]
    assert [r["reason"].split(":")[0] for r in rejected] == [
        "not JSON",
        "invalid UTF-8 at byte 0",
        "not a JSON object",
    ]
    assert "\\xff" in rejected[1]["raw"]
    assert stats.records_in == 6 and stats.kept == 2 and stats.unreadable == 3
    assert stats.blank == 1  # counted, so every line adds up


@pytest.mark.parametrize("name", ["chat.jsonl.gz", "chat.jsonl.zst"])
def test_compressed_jsonl_in_and_out(tmp_path: Path, name: str) -> None:
    _, paths = run(write_jsonl(tmp_path / name, CHAT))
    assert paths.kept.name == name.replace("chat", "chat.clean")
    items = list(read_items(paths.kept, "jsonl"))
    assert [i.record["messages"][1]["content"] for i in items] == [GOOD, "Cat."]  # type: ignore[index]


def test_parquet_csv_text_and_datasets_inputs(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset, load_from_disk

    rows = [{"id": 1, "text": GOOD}, {"id": 2, "text": BAD_SCRIPT}, {"id": 3, "text": HOMOGLYPH}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    stats, paths = run(tmp_path / "t.parquet", "repair")
    assert pq.read_table(paths.kept).to_pylist() == [
        rows[0],
        {"id": 3, "text": "Это закон Максвелла."},
    ]

    with (tmp_path / "t.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text"])
        writer.writeheader()
        writer.writerows(rows)
    with (tmp_path / "t.csv").open("ab") as handle:
        handle.write(b"4,\xff\xfe broken\n")
    stats, paths = run(tmp_path / "t.csv")
    with paths.kept.open(encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == [{"id": "1", "text": GOOD}]
    assert stats.records_in == 4 and stats.unreadable == 1

    (tmp_path / "t.txt").write_text(f"{GOOD}\n\n{BAD_SCRIPT}\n", encoding="utf-8")
    stats, paths = run(tmp_path / "t.txt")
    assert paths.kept.read_text(encoding="utf-8") == GOOD + "\n"
    assert stats.records_in == 3 and stats.blank == 1

    Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    stats, paths = run(tmp_path / "ds")
    assert paths.kept.name == "ds.clean" and load_from_disk(str(paths.kept)).to_list() == [rows[0]]


def test_text_files_one_record_each(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD + "\n" + GOOD, encoding="utf-8")
    (folder / "b.txt").write_text(BAD_SCRIPT, encoding="utf-8")
    paths = Paths.beside(folder, "text")
    clean_run = CleanRun(
        source=folder, paths=paths, spec=CleanerSpec(), engine="inline", text_unit="file"
    )
    stats = clean_run.run()
    assert stats.records_in == 2 and stats.kept == 1


def test_rerun_is_byte_identical_and_interrupts_leave_nothing(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "chat.jsonl.gz", CHAT * 3)
    _, paths = run(source, "tag")
    first = [p.read_bytes() for p in (paths.kept, paths.rejects, paths.stats)]
    run(source, "tag")
    assert [p.read_bytes() for p in (paths.kept, paths.rejects, paths.stats)] == first

    other = Paths(tmp_path / "o.jsonl.gz", tmp_path / "o.rej.jsonl", tmp_path / "o.stats.json")
    seen = []

    def interrupt(done: int) -> None:  # after the first piece is written to the temp files
        seen.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        CleanRun(source=source, paths=other, spec=CleanerSpec(), engine="inline").run(interrupt)
    names = {p.name for p in tmp_path.iterdir()}
    assert not {"o.jsonl.gz", "o.rej.jsonl", "o.stats.json"} & names
    assert not [n for n in names if n.endswith(".tmp")]


def mixed_corpus(path: Path, copies: int) -> Path:
    """Chat records with malformed and undecodable lines and a lone surrogate among them."""
    lines = []
    for n in range(copies):
        lines += [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in CHAT]
        lines.append([b"not json\n", b"\xff\xfe\n", b"\n", b'{"text": "\\ud800 x"}\n'][n % 4])
    path.write_bytes(b"".join(lines))
    return path


def outputs_of(paths: Paths) -> list[bytes]:
    return [p.read_bytes() for p in (paths.kept, paths.rejects, paths.stats)]


def test_local_pool_equals_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = mixed_corpus(tmp_path / "chat.jsonl", 200)
    stats, one = run(source, "repair")
    assert stats.records_in == 200 * 4 + 200 == stats.kept + stats.rejected + stats.blank
    # Small pieces: many of them, cut between any two lines.
    monkeypatch.setattr("langlock.clean.pipeline.BLOCK_BYTES", 3000)
    _, two = run(source, "repair", engine="local", workers=2)
    assert outputs_of(two) == outputs_of(one)


@pytest.mark.slow
def test_ray_equals_the_local_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray")
    source = mixed_corpus(tmp_path / "chat.jsonl", 300)
    _, local = run(source, "drop", engine="local", workers=2)
    import ray

    # Pieces of a few records, so they run in several tasks and waves.
    monkeypatch.setattr("langlock.clean.pipeline.BLOCK_BYTES", 20_000)
    try:
        _, ray_paths = run(source, "drop", engine="ray", workers=2)
    finally:
        ray.shutdown()
    assert outputs_of(ray_paths) == outputs_of(local)
    assert {json.dumps(r, sort_keys=True) for r in read_jsonl(ray_paths.kept)} == {
        json.dumps(r, sort_keys=True) for r in read_jsonl(local.kept)
    }


@pytest.mark.slow
def test_ray_on_a_running_cluster(tmp_path: Path) -> None:
    """``--ray-address`` runs on a cluster started before; without it, a Ray of its own
    starts even while that cluster runs. Both give the local pool's outputs."""
    pytest.importorskip("ray")
    source = mixed_corpus(tmp_path / "chat.jsonl", 100)
    _, local = run(source, "drop", engine="local", workers=2)
    command = [str(Path(sys.executable).with_name("langlock")), "clean", str(source)]
    with ray_head(cpus=2) as head:
        for name, options in [("on_cluster", ["--ray-address", head.address]), ("own", [])]:
            outputs = Paths(
                *(tmp_path / f"{name}.{part}" for part in ("jsonl", "rejects.jsonl", "json"))
            )
            engine = ["--engine", "ray", "--workers", "2", "--rejects", str(outputs.rejects)]
            out = ["-o", str(outputs.kept), "--stats", str(outputs.stats)]
            done = subprocess.run(
                [*command, *engine, *out, *options], capture_output=True, env=head.env
            )
            assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
            if name == "own":
                assert b"Started a local Ray instance" in done.stderr
            assert outputs_of(outputs) == outputs_of(local)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
            st.dictionaries(st.text(max_size=3), st.text(max_size=20)).map(
                lambda d: json.dumps(d, ensure_ascii=False).encode()
            ),
        ),
        max_size=30,
    ),
    final_newline=st.booleans(),
    block=st.integers(1, 200),
)
def test_blocks_of_lines_read_like_one_block(
    lines: list[bytes], final_newline: bool, block: int
) -> None:
    """However a file is cut into blocks, its records, sources and errors are the same."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.jsonl"
        path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline and lines else b""))

        def items(size: int) -> list[Any]:
            return [
                (i.source, i.record, i.error, i.raw)
                for piece in read_pieces(path, "jsonl", block_bytes=size)
                for i in piece_items(piece)
            ]

        assert items(block) == items(1 << 20)
        assert len(items(block)) == sum(1 for line in lines if line.strip())


def test_clean_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from langlock.cli import app

    source = write_jsonl(tmp_path / "chat.jsonl", CHAT, b"oops\n")
    result = CliRunner().invoke(app, ["clean", str(source), "--mode", "repair", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "5 in = 3 kept (1 repaired) + 2 rejected" in result.output
    missing = CliRunner().invoke(app, ["clean", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such input" in missing.output


def test_datasets_and_datatrove_adapters() -> None:
    from datasets import Dataset
    from datatrove.data import Document

    from langlock.clean.adapters import dataset_filter, dataset_tagger, datatrove_filter

    dataset = Dataset.from_list(CHAT)
    assert len(dataset.filter(dataset_filter())) == 2
    tagged = dataset.map(dataset_tagger())
    assert tagged["langlock_ok"] == [True, False, False, True]
    doc_filter = datatrove_filter()
    assert doc_filter.filter(Document(text=GOOD, id="1")) is True
    assert doc_filter.filter(Document(text=BAD_SCRIPT, id="2"))[0] is False


def write_kind(folder: Path, kind: str, rows: list[dict[str, Any]]) -> Path:
    """The same rows as a file (or folder) of one input kind."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    if kind in ("jsonl", "jsonl.gz", "jsonl.zst"):
        return write_jsonl(folder / f"rows.{kind}", rows)
    if kind == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), folder / "rows.parquet")
        return folder / "rows.parquet"
    if kind == "csv":
        with (folder / "rows.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return folder / "rows.csv"
    if kind == "text":
        (folder / "rows.txt").write_text("".join(r["text"] + "\n" for r in rows), "utf-8")
        return folder / "rows.txt"
    Dataset.from_list(rows).save_to_disk(str(folder / "rows"))
    return folder / "rows"


def read_kept(path: Path, kind: str) -> list[dict[str, Any]]:
    return [item.record for item in read_items(path, input_kind(path)) if item.record]  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["drop", "repair", "tag"])
@pytest.mark.parametrize("kind", ["jsonl", "jsonl.gz", "jsonl.zst", "parquet", "csv", "text", "hf"])
def test_every_mode_on_every_input_kind(tmp_path: Path, kind: str, mode: str) -> None:
    rows = [{"text": GOOD}, {"text": BAD_SCRIPT}, {"text": HOMOGLYPH}]
    source = write_kind(tmp_path, kind, rows)
    stats, paths = run(source, mode)
    kept = read_kept(paths.kept, kind)
    assert stats.records_in == 3 == stats.kept + stats.rejected
    texts = [r["text"] for r in kept]
    expected = {
        "drop": [GOOD],
        "repair": [GOOD, "Это закон Максвелла."],
        "tag": [GOOD, BAD_SCRIPT, HOMOGLYPH],
    }[mode]
    assert texts == expected
    if mode == "tag" and kind != "text":  # text output keeps only the text
        tags = [r["langlock"] for r in kept]
        tags = [json.loads(t) if isinstance(t, str) else t for t in tags]  # a JSON column
        assert [t["ok"] for t in tags] == [True, False, False]


def test_tagging_chat_records_into_parquet_keeps_one_schema(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Findings land under different field paths (turn 1 here, turn 3 there): still one
    # schema, since the tag is a JSON column.
    longer = {"messages": CHAT[0]["messages"] + CHAT[1]["messages"]}
    rows = [*CHAT, longer] * 1500  # more than one written batch
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    stats, paths = run(tmp_path / "c.parquet", "tag")
    table = pq.read_table(paths.kept)
    assert stats.kept == len(rows) == len(table)
    tags = [json.loads(t) for t in table.column("langlock").to_pylist()[:5]]
    assert list(tags[4]["findings"]) == ["messages[3].content"]
