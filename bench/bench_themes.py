"""Accuracy and speed of the comment classifier (surveyapp.themes), docs/THEMES.md.

    .venv/bin/python bench/bench_themes.py                 # the test split (report this)
    .venv/bin/python bench/bench_themes.py --split dev     # the split the lexicon is tuned on
    .venv/bin/python bench/bench_themes.py --errors        # also list the misclassified comments

Prints precision and recall per theme, macro-F1 on themes and on polarity, for all comments and
separately for those typed with and without diacritics, then the time to classify 10,000.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveyapp.themes import POLARITIES, THEMES, classify_many  # noqa: E402


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
        "theme_macro_f1": sum(themes[c][2] for c in present) / len(present),
        "polarity_macro_f1": sum(polarity[p][2] for p in POLARITIES if polarity[p][3])
        / sum(1 for p in POLARITIES if polarity[p][3]),
        "polarity_accuracy": sum(r["polarity"] == x.polarity for r, x in zip(rows, results)) / len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--speed", type=int, default=10_000, help="comments to time (0: skip)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(ROOT / "tests" / "data" / f"comments_{args.split}.jsonl", encoding="utf-8")]
    results = classify_many(r["text"] for r in rows)
    groups = {"all": list(range(len(rows))),
              "with diacritics": [i for i, r in enumerate(rows) if r["diacritics"]],
              "without diacritics": [i for i, r in enumerate(rows) if not r["diacritics"]]}
    summary = {name: scores([rows[i] for i in idx], [results[i] for i in idx]) for name, idx in groups.items()}
    print(f"split: {args.split}, {len(rows)} comments")
    print(f"{'theme':<12} {'support':>7} {'P':>6} {'R':>6} {'F1':>6}   (all comments)")
    for code in THEMES:
        p, r, f, n = summary["all"]["themes"][code]
        print(f"{code:<12} {n:>7} {p:>6.2f} {r:>6.2f} {f:>6.2f}")
    print(f"{'polarity':<12} {'support':>7} {'P':>6} {'R':>6} {'F1':>6}")
    for pol in POLARITIES:
        p, r, f, n = summary["all"]["polarity"][pol]
        print(f"{pol:<12} {n:>7} {p:>6.2f} {r:>6.2f} {f:>6.2f}")
    print()
    print(f"{'':<20} {'n':>5} {'themes macro-F1':>16} {'polarity macro-F1':>18} {'urgent P/R':>11}")
    for name, s in summary.items():
        up, ur, _ = s["urgent"]
        print(f"{name:<20} {s['n']:>5} {s['theme_macro_f1']:>16.3f} {s['polarity_macro_f1']:>18.3f} {up:>5.2f}/{ur:.2f}")
    if args.errors:
        print()
        for r, x in zip(rows, results):
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
