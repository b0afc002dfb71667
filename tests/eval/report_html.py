"""Strict HTML parsing for the report tests: unbalanced tags are errors; elements are kept
with their text and ancestors for queries."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from typing import Any


class Page(HTMLParser):
    """Parses a page strictly enough to catch unbalanced tags, and keeps what tests query."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[dict[str, Any]] = []
        self.done: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {[e['tag'] for e in self.stack]}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag in self.VOID:
            return
        self.stack.append(
            {
                "tag": tag,
                "attrs": {k: v or "" for k, v in attrs},
                "text": [],
                "ancestors": [e["attrs"] | {"_tag": e["tag"]} for e in self.stack],
            }
        )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1]["tag"] != tag:
            top = self.stack[-1]["tag"] if self.stack else None
            self.errors.append(f"</{tag}> closes <{top}>")
            return
        entry = self.stack.pop()
        entry["text"] = "".join(entry["text"])
        self.done.append(entry)

    def handle_data(self, data: str) -> None:
        for entry in self.stack:
            entry["text"].append(data)

    def find(self, tag: str, cls: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.done
            if e["tag"] == tag
            and (cls is None or cls in e["attrs"].get("class", "").split())
            and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def ancestor(entry: dict[str, Any], tag: str, attr: str) -> str | None:
    for a in reversed(entry["ancestors"]):
        if a["_tag"] == tag and attr in a:
            return a[attr]
    return None


def section_of(entry: dict[str, Any]) -> str | None:
    return ancestor(entry, "section", "id")


# ----------------------------------------------------------------------------- helpers


def mark_texts(fragment: str) -> dict[int, str]:
    """Each finding's mark pieces joined in document order (a crossing span has several)."""
    pieces: dict[int, list[str]] = {}
    for f, text in StartOrder(f"<div>{fragment}</div>").marks:
        pieces.setdefault(f, []).append(text)
    return {f: "".join(p) for f, p in pieces.items()}


class StartOrder(HTMLParser):
    """Mark pieces in the order they open, each with the text it encloses."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[int, list[str]] | None] = []
        self.pieces: list[tuple[int, list[str]]] = []
        self.feed(html)
        self.close()
        self.marks = [(f, "".join(t)) for f, t in self.pieces]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mark":
            piece = (int(dict(attrs)["data-f"] or 0), [])
            self.pieces.append(piece)
            self.open.append(piece)
        else:
            self.open.append(None)

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for piece in self.open:
            if piece is not None:
                piece[1].append(data)
