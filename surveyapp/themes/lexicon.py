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
    overlapping terms resolve to the longer one and a text is scanned once.

    Matching is word by word on the normalised text: a word the citizen typed with diacritics
    matches only the same word ("rồi" is not "rối", "chăm" is not "chậm"); a word typed without
    them matches the term's word folded ("roi" finds "rối"), except in terms marked "=", whose
    folded form means something else."""

    def __init__(self, terms: dict[tuple[str, bool], set[str]]):
        self.exact: dict[str, set[str]] = {}   # as written in the lexicon, diacritics included
        self.folded: dict[str, set[str]] = {}  # folded, for words typed without diacritics
        pieces: dict[str, int] = {}
        marked: dict[str, int] = {}
        for (term, exact_only), labels in terms.items():
            self.exact.setdefault(term, set()).update(labels)
            if exact_only:
                marked["[ _]".join(re.escape(w) for w in term.split())] = len(term)
                continue
            self.folded.setdefault(fold(term), set()).update(labels)
            # Words of a term meet at a space, or at "_" where a segmenter joined them.
            piece = "[ _]".join(re.escape(w) if fold(w) == w else f"(?:{re.escape(w)}|{re.escape(fold(w))})"
                                for w in term.split())
            pieces[piece] = max(pieces.get(piece, 0), len(term))
        self.pattern = self._compile(pieces)
        # "=" terms, searched only in comments typed with diacritics: without them, "dao"
        # may be "dạo" as well as "dao".
        self.marked = self._compile(marked)

    @staticmethod
    def _compile(pieces: dict[str, int]) -> re.Pattern:
        if not pieces:
            return re.compile(r"(?!x)x")
        alternatives = "|".join(sorted(pieces, key=lambda p: (-pieces[p], p)))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def find(self, text: str, accented: bool = True):
        """(start, end, labels) of each match in the normalised ``text``; ``accented``: the
        comment was typed with diacritics."""
        for m in self.pattern.finditer(text):
            found = m.group().replace("_", " ")
            yield m.start(), m.end(), self.exact.get(found) or self.folded[fold(found)]
        if accented:
            for m in self.marked.finditer(text):
                yield m.start(), m.end(), self.exact[m.group().replace("_", " ")]


@dataclass(frozen=True)
class Lexicon:
    abbreviations: dict[str, str]
    themes: Matcher
    urgent: Matcher
    polarity: Matcher  # labels negative / positive / suggestion
    question: Matcher
    negators: frozenset[str]
    intensifiers: frozenset[str]
    between: frozenset[str]
    contrast: Matcher
    harassment_terms: tuple[str, ...]


def _term(term: str, abbreviations: dict[str, str]) -> tuple[str, bool]:
    """A lexicon term normalised as comments are, and whether it is matched exactly ("=")."""
    exact = term.startswith("=")
    return " ".join(words(term.lstrip("="), abbreviations)), exact


def _matcher(groups: dict[str, list[str]], abbreviations: dict[str, str]) -> Matcher:
    terms: dict[tuple[str, bool], set[str]] = {}
    for label, group in groups.items():
        for term in group:
            terms.setdefault(_term(term, abbreviations), set()).add(label)
    return Matcher(terms)


def load(path: Path = LEXICON_PATH) -> Lexicon:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    abbreviations = {k.lower(): v.lower() for k, v in data["abbreviations"].items()}
    unknown = set(data["themes"]) - set(THEMES)
    if unknown:
        raise ValueError(f"unknown theme codes in {path.name}: {sorted(unknown)}")
    pol = data["polarity"]
    norm = lambda ts: frozenset(fold(_term(t, abbreviations)[0]) for t in ts)  # noqa: E731
    return Lexicon(
        abbreviations=abbreviations,
        themes=_matcher({c: t["terms"] for c, t in data["themes"].items()}, abbreviations),
        urgent=_matcher({"urgent": data["flags"]["urgent"]["terms"]}, abbreviations),
        polarity=_matcher({k: pol[k] for k in ("negative", "positive", "suggestion")}, abbreviations),
        question=_matcher({"question": pol["question"]}, abbreviations),
        negators=norm(pol["negators"]), intensifiers=norm(pol["intensifiers"]), between=norm(pol["between"]),
        contrast=_matcher({"contrast": pol["contrast"]}, abbreviations),
        harassment_terms=tuple(data["themes"]["harassment"]["terms"]),
    )


@lru_cache(maxsize=1)
def default() -> Lexicon:
    return load()
