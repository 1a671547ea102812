"""The editable lexicon (lexicon.toml beside this module), compiled once into matchers."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .normalise import fold, words

LEXICON_PATH = Path(__file__).with_name("lexicon.toml")

THEMES = ("waiting", "attitude", "competence", "procedure", "fees", "facilities", "information",
          "online", "result", "harassment", "care", "teaching")
POLARITIES = ("complaint", "praise", "suggestion", "neutral")
FLAGS = ("urgent",)


class Matcher:
    """Whole-word phrase search: every term in one regular expression, longest first, so that
    overlapping terms resolve to the longer one and a text is scanned once."""

    def __init__(self, labelled: dict[str, set[str]]):
        self.labels = labelled
        if labelled:
            alternatives = "|".join(re.escape(t) for t in sorted(labelled, key=len, reverse=True))
            self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        else:
            self.pattern = re.compile(r"(?!x)x")

    def find(self, text: str):
        """(start, end, labels) of each match."""
        for m in self.pattern.finditer(text):
            yield m.start(), m.end(), self.labels[m.group()]


@dataclass(frozen=True)
class Lexicon:
    abbreviations: dict[str, str]
    themes_folded: Matcher   # matched on the folded text
    themes_exact: Matcher    # "=" terms, matched on text typed with diacritics
    urgent_folded: Matcher
    urgent_exact: Matcher
    polarity: tuple[Matcher, Matcher]  # labels negative / positive / suggestion; folded, exact
    negators: frozenset[str]
    between: frozenset[str]
    contrast: Matcher
    harassment_terms: tuple[str, ...]


def _term(term: str, abbreviations: dict[str, str]) -> tuple[str, bool]:
    exact = term.startswith("=")
    normal = " ".join(words(term.lstrip("="), abbreviations))
    return (normal if exact else fold(normal)), exact


def _matchers(groups: dict[str, list[str]], abbreviations: dict[str, str]) -> tuple[Matcher, Matcher]:
    folded: dict[str, set[str]] = {}
    exact: dict[str, set[str]] = {}
    for label, terms in groups.items():
        for term in terms:
            text, is_exact = _term(term, abbreviations)
            (exact if is_exact else folded).setdefault(text, set()).add(label)
    return Matcher(folded), Matcher(exact)


def load(path: Path = LEXICON_PATH) -> Lexicon:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    abbreviations = {k.lower(): v.lower() for k, v in data["abbreviations"].items()}
    unknown = set(data["themes"]) - set(THEMES)
    if unknown:
        raise ValueError(f"unknown theme codes in {path.name}: {sorted(unknown)}")
    themes_folded, themes_exact = _matchers({c: t["terms"] for c, t in data["themes"].items()}, abbreviations)
    urgent_folded, urgent_exact = _matchers({"urgent": data["flags"]["urgent"]["terms"]}, abbreviations)
    pol = data["polarity"]
    polarity = _matchers({k: pol[k] for k in ("negative", "positive", "suggestion")}, abbreviations)
    contrast, _ = _matchers({"contrast": pol["contrast"]}, abbreviations)
    norm = lambda ts: frozenset(_term(t, abbreviations)[0] for t in ts)  # noqa: E731
    return Lexicon(
        abbreviations=abbreviations, themes_folded=themes_folded, themes_exact=themes_exact,
        urgent_folded=urgent_folded, urgent_exact=urgent_exact, polarity=polarity,
        negators=norm(pol["negators"]), between=norm(pol["between"]), contrast=contrast,
        harassment_terms=tuple(data["themes"]["harassment"]["terms"]),
    )


@lru_cache(maxsize=1)
def default() -> Lexicon:
    return load()
