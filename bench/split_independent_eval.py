"""Split the independent comment evaluation set into a tuning part and a held-out part.

Reads ``tests/data/comments_independent_all.jsonl`` and writes
``comments_independent_dev.jsonl`` (40 %, for tuning) and
``comments_independent_test.jsonl`` (60 %, never tuned on) next to it. The split is
stratified by sector and polarity and uses a fixed seed, so running the script again
gives byte-identical files; ``tests/themes/test_independent_set.py`` checks that.

    python bench/split_independent_eval.py            # rewrite the two files
    python bench/split_independent_eval.py --out-dir /tmp/x   # write elsewhere
"""
from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SOURCE = DATA / "comments_independent_all.jsonl"
DEV_NAME = "comments_independent_dev.jsonl"
TEST_NAME = "comments_independent_test.jsonl"
SEED = 20261208
BLOCK = 5  # dev takes DEV_PER_BLOCK of every BLOCK rows of a stratum: 40 %
DEV_PER_BLOCK = 2


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def split(rows: list[dict], seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """Stratified split by (sector, polarity).

    Within a stratum, rows are taken in id order in blocks of five; a random generator
    seeded by (seed, stratum, block number) sends two rows of each block to dev. A row's
    part depends only on the rows before it in its stratum, so comments appended later
    (with higher ids) never move a comment that was already split: nothing someone tuned
    on can later land in the held-out part. Rows keep the source order in both outputs.
    """
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["id"]):
        strata[(row["sector"], row["polarity"])].append(row["id"])
    dev_ids: set[str] = set()
    for (sector, polarity), ids in strata.items():
        for start in range(0, len(ids), BLOCK):
            rng = random.Random(f"{seed}:{sector}:{polarity}:{start // BLOCK}")
            picked = rng.sample(range(BLOCK), DEV_PER_BLOCK)
            dev_ids.update(ids[start + i] for i in picked if start + i < len(ids))
    dev = [row for row in rows if row["id"] in dev_ids]
    test = [row for row in rows if row["id"] not in dev_ids]
    return dev, test


def write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out-dir", type=Path, default=DATA)
    args = parser.parse_args(argv)
    rows = read_rows(args.source)
    dev, test = split(rows)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_rows(args.out_dir / DEV_NAME, dev)
    write_rows(args.out_dir / TEST_NAME, test)
    for name, part in (("dev", dev), ("test", test)):
        pols = Counter(row["polarity"] for row in part)
        secs = Counter(row["sector"] for row in part)
        print(f"{name}: {len(part)} comments; sectors {dict(sorted(secs.items()))}; "
              f"polarity {dict(sorted(pols.items()))}")


if __name__ == "__main__":
    main()
