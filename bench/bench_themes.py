"""Accuracy and speed of the comment classifier (surveyapp.themes), docs/THEMES.md.

    .venv/bin/python bench/bench_themes.py                      # independent set, test split (report this)
    .venv/bin/python bench/bench_themes.py --split dev          # the split the lexicon may be tuned on
    .venv/bin/python bench/bench_themes.py --set author         # the set written by the lexicon's author
    .venv/bin/python bench/bench_themes.py --split dev --errors # also list the misclassified comments

Prints precision and recall per theme and per polarity, and macro-F1 on themes and on polarity:
for the comments as written, for the same comments with their diacritics folded away (as a
phone without a Vietnamese keyboard sends them), and for the set's own comments typed with and
without diacritics; then the time to classify 10,000 comments. ``--errors`` is for the dev
split only: the test split's texts are never printed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveyapp.themes import POLARITIES, THEMES, classify_many  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = {
    # Written and labelled by another engineer who never saw the lexicon.
    "independent": {"dev": "comments_independent_dev.jsonl", "test": "comments_independent_test.jsonl"},
    # Written and labelled by the lexicon's author (optimistic: docs/THEMES.md).
    "author": {"dev": "comments_dev.jsonl", "test": "comments_test.jsonl"},
}


def fold(text: str) -> str:
    """The text without its diacritics, đ as d. Independent of surveyapp.themes.normalise on
    purpose: it is what a phone sends, not what the classifier expects."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def scores(rows: list[dict], results) -> dict:
    themes = {}
    for code in THEMES:
        tp = sum(code in r["themes"] and code in x.themes for r, x in zip(rows, results))
        fp = sum(code not in r["themes"] and code in x.themes for r, x in zip(rows, results))
        fn = sum(code in r["themes"] and code not in x.themes for r, x in zip(rows, results))
        themes[code] = (*prf(tp, fp, fn), tp + fn)
    present = [c for c in THEMES if themes[c][3]]
    polarity = {}
    for pol in POLARITIES:
        tp = sum(r["polarity"] == pol == x.polarity for r, x in zip(rows, results))
        fp = sum(r["polarity"] != pol == x.polarity for r, x in zip(rows, results))
        fn = sum(x.polarity != pol == r["polarity"] for r, x in zip(rows, results))
        polarity[pol] = (*prf(tp, fp, fn), tp + fn)
    urgent = prf(sum("urgent" in r["flags"] and "urgent" in x.flags for r, x in zip(rows, results)),
                 sum("urgent" not in r["flags"] and "urgent" in x.flags for r, x in zip(rows, results)),
                 sum("urgent" in r["flags"] and "urgent" not in x.flags for r, x in zip(rows, results)))
    return {
        "n": len(rows), "themes": themes, "polarity": polarity, "urgent": urgent,
        "urgent_support": sum("urgent" in r["flags"] for r in rows),
        "theme_macro_f1": sum(themes[c][2] for c in present) / len(present) if present else float("nan"),
        "polarity_macro_f1": sum(polarity[p][2] for p in POLARITIES if polarity[p][3])
        / max(sum(1 for p in POLARITIES if polarity[p][3]), 1),
    }


def read(set_name: str, split: str) -> list[dict]:
    with open(DATA / SETS[set_name][split], encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="set_name", choices=tuple(SETS), default="independent")
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--errors", action="store_true", help="list the dev split's misclassified comments")
    parser.add_argument("--speed", type=int, default=10_000, help="comments to time (0: skip)")
    args = parser.parse_args()
    if args.errors and args.split != "dev":
        parser.error("--errors lists texts: the dev split only (nothing is tuned on the test split)")
    rows = read(args.set_name, args.split)
    has_marks = [fold(r["text"]) != r["text"] for r in rows]
    written = classify_many(r["text"] for r in rows)
    folded = classify_many(fold(r["text"]) for r in rows)
    runs = {
        "as written": scores(rows, written),
        "all folded": scores(rows, folded),
        "own: with diacritics": scores([r for r, m in zip(rows, has_marks) if m],
                                       [x for x, m in zip(written, has_marks) if m]),
        "own: without": scores([r for r, m in zip(rows, has_marks) if not m],
                               [x for x, m in zip(written, has_marks) if not m]),
    }
    print(f"set: {args.set_name}, split: {args.split}, {len(rows)} comments "
          f"({sum(has_marks)} typed with diacritics, {len(rows) - sum(has_marks)} without)")
    head = f"{'':<12} {'support':>7}   {'P':>5} {'R':>5} {'F1':>5}   {'P':>5} {'R':>5} {'F1':>5}"
    print(f"{'':<20}{'as written':^19}   {'all folded':^17}")
    print(head.replace("support", "support"))
    w, f = runs["as written"], runs["all folded"]
    for code in THEMES:
        p, r, f1, n = w["themes"][code]
        fp_, fr, ff, _ = f["themes"][code]
        print(f"{code:<12} {n:>7}   {p:>5.2f} {r:>5.2f} {f1:>5.2f}   {fp_:>5.2f} {fr:>5.2f} {ff:>5.2f}")
    print()
    for pol in POLARITIES:
        p, r, f1, n = w["polarity"][pol]
        fp_, fr, ff, _ = f["polarity"][pol]
        print(f"{pol:<12} {n:>7}   {p:>5.2f} {r:>5.2f} {f1:>5.2f}   {fp_:>5.2f} {fr:>5.2f} {ff:>5.2f}")
    print()
    print(f"{'comments':<22} {'n':>5} {'themes macro-F1':>16} {'polarity macro-F1':>18} {'urgent P/R (n)':>16}")
    for name, s in runs.items():
        up, ur, _ = s["urgent"]
        print(f"{name:<22} {s['n']:>5} {s['theme_macro_f1']:>16.3f} {s['polarity_macro_f1']:>18.3f} "
              f"{up:>6.2f}/{ur:.2f} ({s['urgent_support']})")
    if args.errors:
        print()
        for r, x in zip(rows, written):
            if set(r["themes"]) != set(x.themes) or r["polarity"] != x.polarity or set(r["flags"]) != set(x.flags):
                print(f"{r['text']}\n    want {r['themes']} {r['polarity']} {r['flags']}\n    got  {x.themes} {x.polarity} {x.flags}")
    if args.speed:
        texts = [rows[i % len(rows)]["text"] + (" " * (i // len(rows) % 3)) for i in range(args.speed)]
        classify_many(texts[:10])  # the lexicon is compiled once per process, outside the timing
        start = time.perf_counter()
        classify_many(texts)
        print(f"\n{args.speed} comments themed in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
