"""Does a Vietnamese word segmenter help the classifier, and what does it cost? (docs/THEMES.md)

Each comment is segmented first ("lãng phí" -> "lãng_phí"); the lexicon's terms then match only
whole words of the segmentation, so "phí" is no longer found inside "lãng_phí". Measured on a
dev split only, against the same classifier without segmentation, with the time for 10,000.

    pip install underthesea pyvi       # in a separate environment: neither is a dependency
    python bench/bench_segmentation.py --segmenter underthesea --segmenter pyvi
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_themes import fold, read, scores  # noqa: E402

from surveyapp.themes import classify_many  # noqa: E402


def segmenter(name: str):
    if name == "none":
        return lambda text: text
    if name == "underthesea":
        from underthesea import word_tokenize

        return lambda text: word_tokenize(text, format="text")
    if name == "pyvi":
        from pyvi import ViTokenizer

        return ViTokenizer.tokenize
    raise ValueError(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", action="append", choices=("underthesea", "pyvi"), default=[])
    parser.add_argument("--set", dest="set_name", choices=("independent", "author"), default="independent")
    parser.add_argument("--speed", type=int, default=10_000)
    args = parser.parse_args()
    rows = read(args.set_name, "dev")
    print(f"set: {args.set_name}, dev split, {len(rows)} comments")
    print(f"{'segmenter':<12} {'import s':>8} {'themes F1':>10} {'folded':>7} {'polarity F1':>12} {'folded':>7} "
          f"{'10k s':>7}")
    for name in ["none", *args.segmenter]:
        t0 = time.perf_counter()
        seg = segmenter(name)
        loaded = time.perf_counter() - t0
        written = scores(rows, classify_many(seg(r["text"]) for r in rows))
        folded = scores(rows, classify_many(seg(fold(r["text"])) for r in rows))
        texts = [rows[i % len(rows)]["text"] + (" " * (i // len(rows) % 3)) for i in range(args.speed)]
        classify_many([seg(t) for t in texts[:10]])
        start = time.perf_counter()
        classify_many(seg(t) for t in texts)
        took = time.perf_counter() - start
        print(f"{name:<12} {loaded:>8.1f} {written['theme_macro_f1']:>10.3f} {folded['theme_macro_f1']:>7.3f} "
              f"{written['polarity_macro_f1']:>12.3f} {folded['polarity_macro_f1']:>7.3f} {took:>7.2f}")


if __name__ == "__main__":
    main()
