"""Comments as citizens type them on phones, made comparable: NFC, lower case, repeated letters
collapsed, teencode expanded, and a second form with the diacritics folded away."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

WORD = re.compile(r"\w+")
# Three or more of the same letter ("lâuuuu", "quáaaa"): no Vietnamese or English word has them.
REPEATS = re.compile(r"(\w)\1{2,}")
# Folding by table: faster than NFD and dropping combining marks, and it keeps đ apart as d.
_FOLD = str.maketrans({
    **{c: "a" for c in "àáảãạăằắẳẵặâầấẩẫậ"}, **{c: "e" for c in "èéẻẽẹêềếểễệ"},
    **{c: "i" for c in "ìíỉĩị"}, **{c: "o" for c in "òóỏõọôồốổỗộơờớởỡợ"},
    **{c: "u" for c in "ùúủũụưừứửữự"}, **{c: "y" for c in "ỳýỷỹỵ"}, "đ": "d",
})


def fold(text: str) -> str:
    """The text without Vietnamese diacritics ("chờ lâu" -> "cho lau"); expects NFC lower case."""
    return text.translate(_FOLD)


def words(text: str, abbreviations: Mapping[str, str] = {}) -> list[str]:
    """The comment's words: NFC, lower case, repeats collapsed, abbreviations expanded."""
    text = unicodedata.normalize("NFC", text).lower()
    text = REPEATS.sub(r"\1", text)
    out: list[str] = []
    for word in WORD.findall(text):
        out.append(abbreviations.get(word, word))
    return out


def has_diacritics(text: str) -> bool:
    text = unicodedata.normalize("NFC", text).lower()
    return fold(text) != text
