"""Rebuild ``src/langlock/data/names/software.txt`` from a PyPI download ranking.

The ranking (a TSV with ``name`` and ``rank_among_15000_most_downloaded`` columns) is not
shipped; the generated list is. Library names are names under POLICY.md ("names of
products, companies, libraries"), so a lowercase ``pandas`` in prose is not a foreign word.
Names that are also very common English words (``rich``, ``click``, ``future``) are left
out: in prose they are far more often the word than the library.

    python scripts/build_names.py RANKING.tsv > src/langlock/data/names/software.txt
"""

from __future__ import annotations

import csv
import sys

from wordfreq import zipf_frequency

TOP = 3000
COMMON_ENGLISH_ZIPF = 4.3


def main(path: str) -> None:
    names: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rank = row.get("rank_among_15000_most_downloaded") or ""
            name = row["name"].lower()
            if not rank.isdigit() or int(rank) > TOP or not name.isalpha() or len(name) < 3:
                continue
            if zipf_frequency(name, "en") >= COMMON_ENGLISH_ZIPF:
                continue
            names.add(name)
    print("# Software names (PyPI top downloads), one per line; see scripts/build_names.py")
    print("\n".join(sorted(names)))


if __name__ == "__main__":
    main(sys.argv[1])
