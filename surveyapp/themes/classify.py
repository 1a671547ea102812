"""What a comment is about (themes), which way it leans (polarity), and whether it needs a
person now (flags). Pure text in, labels out: no Flask, no network, no model download."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import lexicon as lexicon_module
from .lexicon import THEMES, Lexicon
from .normalise import fold, words

CLAUSES = re.compile(r"[.,;:!?\n()\[\]\-–—/]+")
# "nên" is also "so" ("hướng dẫn sai nên phải làm lại"): it proposes only at the start of a
# clause or after a subject.
SHOULD = "nen"
SHOULD_AFTER = frozenset({"truong", "vien", "ta", "thi", "cung", "minh", "toi", "nghi", "la", "bo", "can",
                          "le", "ban", "chuc", "ly", "dan", "khoa", "quay", "hieu"})
# ... unless what follows it is a consequence ("sai nên phải làm lại", "nên con bị trừ điểm").
SO_NEXT = frozenset({"phai", "bi", "moi", "mat", "toi", "minh", "em", "con", "cung", "danh", "khong", "chua",
                     "rat", "ai", "nguoi", "dan", "ca", "lai"})
# A comment ending with one of these asks something ("có tốn phí ko", "ở khoa nào ạ").
QUESTION_ENDS = frozenset({"a", "khong", "chua", "vay", "nhi", "ha"})
CONTRAST_WEIGHT = 1.5
INTENSIFIER_WEIGHT = 1.5
# "không đăng nhập được", "ko xem dc điểm": not able to, a complaint whatever the verb.
UNABLE = re.compile(r"(?<!\w)(?:khong|chua) (?:\w+ ){1,3}duoc(?!\w)")


@dataclass(frozen=True)
class Result:
    themes: list[str] = field(default_factory=list)
    polarity: str = "neutral"
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"themes": list(self.themes), "polarity": self.polarity, "flags": list(self.flags)}


def prepare(text: str, lex: Lexicon) -> tuple[str, str, bool]:
    """(normalised text, the same folded, whether it was typed with diacritics). Clauses are kept apart by " , " so that no term
    matches across a comma. Folding keeps every position, so a match in one is the same span
    in the other."""
    clauses = CLAUSES.split(unicodedata.normalize("NFC", text or ""))
    normal = " , ".join(" ".join(w) for w in (words(c, lex.abbreviations) for c in clauses) if w)
    folded = fold(normal)
    return normal, folded, folded != normal


def _negated(before: list[str], lex: Lexicon) -> bool:
    if not before:
        return False
    if before[-1] in lex.negators:
        return True
    if len(before) >= 2 and before[-1] in lex.between and before[-2] in lex.negators:
        return True
    return len(before) >= 3 and " ".join(before[-2:]) in lex.between and before[-3] in lex.negators


def _is_question(normal: str, folded: str, accented: bool, lex: Lexicon) -> bool:
    """A question cue in the last clause, or a question word ending the comment; a cue earlier
    on ("chi trả bao nhiêu không ai nói, ...") is part of a statement."""
    cut = normal.rfind(" , ") + 1
    ends = folded.rsplit(None, 1)[-1:] if folded else []
    return any(lex.question.find(normal[cut:], folded[cut:], accented)) or bool(ends and ends[0] in QUESTION_ENDS)


def _polarity(normal: str, folded: str, accented: bool, lex: Lexicon, themed: bool) -> str:
    contrast_at = min((start for start, _, _ in lex.contrast.find(normal, folded, accented)), default=None)
    score = {"negative": 0.0, "positive": 0.0}
    suggests = False
    last_end = -1
    for start, end, labels in sorted(lex.polarity.find(normal, folded, accented), key=lambda m: (m[0], -m[1])):
        if start < last_end:
            continue
        last_end = end
        before = folded[:start].split()
        label = next(iter(labels))
        if label == "suggestion":
            if folded[start:end] == SHOULD and before and before[-1] != "," and before[-1] not in SHOULD_AFTER \
                    and folded[end:].split()[:1] and folded[end:].split()[0] in SO_NEXT:
                continue
            suggests = True
            continue
        if _negated(before, lex):
            label = "positive" if label == "negative" else "negative"
        weight = CONTRAST_WEIGHT if contrast_at is not None and start > contrast_at else 1.0
        if before and (before[-1] in lex.intensifiers or " ".join(before[-2:]) in lex.intensifiers):
            weight *= INTENSIFIER_WEIGHT
        score[label] += weight
    score["negative"] += len(UNABLE.findall(folded))
    if suggests:
        return "suggestion"
    if _is_question(normal, folded, accented, lex) and score["negative"] <= 2 and score["positive"] == 0:
        # A question asks for information ("hồ sơ cần những giấy tờ gì ạ"); one with several
        # complaints in it is rhetorical.
        return "neutral"
    if score["negative"] == score["positive"] == 0:
        # A comment that names an aspect without a judgement word reports a problem with it
        # ("Chờ khám từ 6h đến 11h"); one that names none says nothing to act on.
        return "complaint" if themed else "neutral"
    return "complaint" if score["negative"] >= score["positive"] else "praise"


def classify(text: str, lex: Lexicon | None = None) -> Result:
    """Themes (codes from ``THEMES``, in that order), polarity and flags of one comment."""
    lex = lex or lexicon_module.default()
    normal, folded, accented = prepare(text, lex)
    found: set[str] = set()
    for _, _, labels in lex.themes.find(normal, folded, accented):
        found |= labels
    flags = ["urgent"] if any(lex.urgent.find(normal, folded, accented)) else []
    polarity = _polarity(normal, folded, accented, lex, bool(found))
    if flags and polarity == "neutral":
        polarity = "complaint"  # a threat or an emergency with no judgement word still asks for action
    return Result(themes=[t for t in THEMES if t in found], polarity=polarity, flags=flags)


def classify_many(texts: Iterable[str], lex: Lexicon | None = None) -> list[Result]:
    lex = lex or lexicon_module.default()
    return [classify(t, lex) for t in texts]


def mentions_harassment(text: str) -> bool:
    """Whether a comment speaks of harassment or a demand for money: the harassment theme's
    terms, which the harassment alert rule shares."""
    return "harassment" in classify(text).themes
