"""The demo's comments are varied enough to show the themes: every sector, every theme, typed
with and without diacritics, and none of them copied from the evaluation set."""
from __future__ import annotations

import json
from pathlib import Path

from surveyapp.models import SECTORS
from surveyapp.themes import THEMES, classify_many
from surveyapp.themes.demo import demo_comments
from surveyapp.themes.normalise import has_diacritics

DATA = Path(__file__).resolve().parent.parent / "data"


def test_demo_comments_are_many_distinct_and_cover_every_theme():
    comments = demo_comments()
    assert len(set(comments)) == len(comments) >= 200
    assert all(len(demo_comments(sector)) >= 50 for sector in SECTORS)
    seen = {theme for result in classify_many(comments) for theme in result.themes}
    assert seen == set(THEMES)
    assert sum(not has_diacritics(c) for c in comments) >= 20
    assert {r.polarity for r in classify_many(comments)} == {"complaint", "praise", "suggestion", "neutral"}


def test_demo_comments_are_not_the_evaluation_set():
    evaluated = {json.loads(line)["text"].lower() for name in ("dev", "test")
                 for line in open(DATA / f"comments_{name}.jsonl", encoding="utf-8")}
    assert not evaluated & {c.lower() for c in demo_comments()}
