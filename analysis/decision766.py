"""Decision 766/QĐ-TTg's satisfaction ratio for dossier handling, and the late share.

Pure arithmetic on counts: the caller counts dossiers and ratings. See docs/DOSSIERS.md.
"""
from __future__ import annotations

EXPLANATION_VI = ("Chỉ số 766 coi hồ sơ không được đánh giá là hài lòng và chia cho mọi hồ sơ đã giải quyết; "
                  "chỉ số khảo sát chỉ tính những người đã trả lời.")
EXPLANATION_EN = ("The 766 ratio counts every unrated dossier as satisfied and divides by all dossiers handled; "
                  "the survey index counts only those who answered.")


def satisfaction_766(handled: int, dissatisfied_or_complained: int) -> dict:
    """(handled − dissatisfied or complained about) ÷ handled, as a dict with ``numerator``,
    ``denominator``, ``value`` (None when nothing was handled) and ``explanation_vi``/``_en``.

    A dossier nobody rated is counted as satisfied, so this is a "not dissatisfied" share."""
    if handled < 0 or dissatisfied_or_complained < 0:
        raise ValueError("counts must be non-negative")
    if dissatisfied_or_complained > handled:
        raise ValueError("more dissatisfied dossiers than dossiers handled")
    numerator = handled - dissatisfied_or_complained
    return {
        "numerator": numerator,
        "denominator": handled,
        "value": numerator / handled if handled else None,
        "explanation_vi": EXPLANATION_VI,
        "explanation_en": EXPLANATION_EN,
    }


def late_share(late: int, total: int) -> float | None:
    """Share of dossiers late; None when there are none."""
    if late < 0 or total < 0 or late > total:
        raise ValueError("0 <= late <= total is required")
    return late / total if total else None


__all__ = ["satisfaction_766", "late_share", "EXPLANATION_VI", "EXPLANATION_EN"]
