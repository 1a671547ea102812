"""Builds tests/data/comments_dev.jsonl and comments_test.jsonl from the hand-written, hand-labelled
comments in tests/data/comments_written_*.txt (docs/THEMES.md says how they were made).

Each written comment typed with diacritics also yields the same comment typed without them, as
phones often send it. A comment and its variant land in the same split, chosen by a hash of the
written text: nothing tuned on (dev) is evaluated on (test).

    .venv/bin/python bench/build_themes_eval.py
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SECTORS = {"1": "administrative", "2": "hospital", "3": "school", "4": "mixed"}
POLARITY = {"c": "complaint", "p": "praise", "s": "suggestion", "n": "neutral"}
FLAGS = {"u": "urgent"}
DEV_SHARE = 40  # percent


def fold(text: str) -> str:
    # Independent of surveyapp.themes.normalise on purpose: the variants are what a phone sends.
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))


def main() -> None:
    splits: dict[str, list[dict]] = {"dev": [], "test": []}
    for path in sorted(DATA.glob("comments_written_*.txt")):
        sector = SECTORS[path.stem.rsplit("_", 1)[1]]
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            themes, polarity, flags, text = line.split(";", 3)
            digest = hashlib.sha256(text.encode()).hexdigest()
            split = "dev" if int(digest[:8], 16) % 100 < DEV_SHARE else "test"
            label = {"themes": [t for t in themes.split(",") if t], "polarity": POLARITY[polarity],
                     "flags": [FLAGS[f] for f in flags.split(",") if f], "sector": sector}
            variants = {text: "as written"}
            if fold(text) != text:
                variants[fold(text)] = "without diacritics"
            for variant_text, variant in variants.items():
                splits[split].append({"id": f"{digest[:10]}-{len(splits[split])}", "text": variant_text,
                                      "diacritics": fold(variant_text) != variant_text,
                                      "variant": variant, **label})
    for name, rows in splits.items():
        with open(DATA / f"comments_{name}.jsonl", "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(name, len(rows), "comments,", sum(r["diacritics"] for r in rows), "with diacritics")


if __name__ == "__main__":
    main()
