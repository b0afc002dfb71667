"""The ``langlock`` command: check and fix answers, score the checker on the dev set.

Input is plain text (a whole file is one record) or JSONL (by ``.jsonl`` extension or
``--jsonl``) with ``text`` and optional ``id`` and ``prompt`` fields. ``-`` (or no file)
reads stdin. Bad input never stops a run: each bad file or line becomes an error record,
the rest is processed, and the exit status is 2 at the end.

Exit status: 0 every record clean, 1 some record has a major finding, 2 some input was bad.
"""

from __future__ import annotations

import typer

from langlock.cli import check, clean, devset, generate, serve, train
from langlock.cli import eval as eval_door

app = typer.Typer(
    name="langlock",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main() -> None:
    """Keep LLM answers in one language: check, fix, and score against the dev set."""


app.command()(check.check)
app.command()(check.fix)
app.command()(devset.devset)
app.command()(generate.generate)
app.command("eval")(eval_door.eval_command)
app.command()(clean.clean)
app.command("serve")(serve.serve_command)
app.command()(train.pairs)
app.command()(train.train)
