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


# Words of a term meet at a space, or at "_" where a word segmenter joined them
# (bench/bench_segmentation.py): a term never matches inside a segmented word.
JOIN = "[ _]"


class Matcher:
    """Whole-word phrase search: every term in one regular expression, longest first, so that
    overlapping terms resolve to the longer one and a text is scanned once.

    Terms are found on the folded text, then checked word by word against what was typed: a word
    typed with diacritics matches only the same word ("rồi" is not "rối", "chăm" is not "chậm");
    a word typed without them matches the term's word folded ("roi" finds "rối"). Terms marked
    "=" (their folded form means something else) are searched as written, and only in comments
    typed with diacritics."""

    def __init__(self, terms: dict[tuple[str, bool], set[str]]):
        # folded term -> [(its words as written, labels)]: "cham" -> chậm, chăm, ...
        self.candidates: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
        self.exact: dict[str, set[str]] = {}
        folded: dict[str, int] = {}
        marked: dict[str, int] = {}
        for (term, exact_only), labels in terms.items():
            if exact_only:
                self.exact.setdefault(term, set()).update(labels)
                marked[term] = max(marked.get(term, 0), len(term))
            else:
                key = fold(term)
                self.candidates.setdefault(key, []).append((tuple(term.split()), frozenset(labels)))
                folded[key] = max(folded.get(key, 0), len(term))
        self.pattern = self._compile(folded)
        self.marked = self._compile(marked)

    @staticmethod
    def _compile(terms: dict[str, int]) -> re.Pattern:
        if not terms:
            return re.compile(r"(?!x)x")
        ordered = sorted(terms, key=lambda t: (-terms[t], t))
        alternatives = "|".join(JOIN.join(re.escape(w) for w in t.split()) for t in ordered)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def find(self, normal: str, folded: str, accented: bool = True):
        """(start, end, labels) of each match in a comment, given as normalised and as folded
        (same positions); ``accented``: the comment was typed with diacritics."""
        for m in self.pattern.finditer(folded):
            typed = re.split(JOIN, normal[m.start():m.end()])
            labels: set[str] = set()
            for term_words, term_labels in self.candidates[m.group().replace("_", " ")]:
                if all(t == w or t == fold(t) for t, w in zip(typed, term_words)):
                    labels |= term_labels
            if labels:
                yield m.start(), m.end(), labels
        if accented:
            for m in self.marked.finditer(normal):
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
