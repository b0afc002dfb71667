"""``python -m langlock``: the same as the ``langlock`` command."""

from langlock.cli import app

if __name__ == "__main__":
    app(prog_name="langlock")
