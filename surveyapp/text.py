"""Free text written by citizens, made safe to show to officials.

Jinja's autoescaping already keeps markup out. What remains are characters that change how
the surrounding page reads: direction overrides and isolates, which can reverse a line or make
it look like part of the page around it, and floods of combining marks ("zalgo"), which paint
over the lines above and below. :func:`neutralise_display` removes them; it is the
``neutralise`` filter of every template.
"""
from __future__ import annotations

import re
import unicodedata

# Embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069), the directional marks
# (U+200E, U+200F) and the Arabic letter mark (U+061C).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# After NFC, Vietnamese needs none; other scripts stack at most a few.
MAX_COMBINING_MARKS = 3


def neutralise_display(text: str | None) -> str:
    """``text`` without direction controls, and with every run of combining marks cut to
    :data:`MAX_COMBINING_MARKS`. A plain string: the template still escapes it."""
    if not text:
        return ""
    text = BIDI_CONTROLS.sub("", unicodedata.normalize("NFC", str(text)))
    out = []
    run = 0
    for ch in text:
        if unicodedata.category(ch) in ("Mn", "Me"):
            run += 1
            if run > MAX_COMBINING_MARKS:
                continue
        else:
            run = 0
        out.append(ch)
    return "".join(out)
