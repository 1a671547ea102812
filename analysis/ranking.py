"""Ranking units under rules given as data.

A rule set has ``ranks`` (best first), ``bands`` (``[{"min": score, "rank": r}, ...]`` on the
``score`` metric, first match wins, highest first; below every band: the last rank) and ``caps``
(``[{"name": ..., "when": [{"metric": m, "op": "<=", "value": v}, ...], "cap": r}, ...]``): a unit
meeting every condition of a cap can be ranked no better than ``cap``. The rule that decided a
unit's rank is the band when no cap lowered it, else the first cap, in order, that gave the
lowest rank. A condition on a metric the unit lacks (None) does not hold; a unit without a score
is not ranked.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}

LAM_DONG_BANDS = [
    {"min": 0.90, "rank": "xuất sắc"},
    {"min": 0.80, "rank": "tốt"},
    {"min": 0.70, "rank": "khá"},
    {"min": 0.50, "rank": "trung bình"},
]
RANKS = ["xuất sắc", "tốt", "khá", "trung bình", "yếu"]

PRESETS: dict[str, dict] = {
    "lam-dong": {"ranks": RANKS, "bands": LAM_DONG_BANDS, "caps": []},
    "khanh-hoa": {
        "ranks": RANKS,
        "bands": LAM_DONG_BANDS,
        "caps": [
            {"name": "satisfaction_at_most_80", "label": "Chỉ số hài lòng ≤ 80%",
             "when": [{"metric": "satisfaction", "op": "<=", "value": 0.80}], "cap": "khá"},
            {"name": "late_at_least_5", "label": "Hồ sơ trễ hạn ≥ 5%",
             "when": [{"metric": "late_share", "op": ">=", "value": 0.05}], "cap": "khá"},
        ],
    },
}


@dataclass(frozen=True)
class Ranked:
    unit: object
    rank: str | None
    rule: str  # the band ("band:tốt") or the cap's name that decided the rank; "no_score"
    rule_label: str


def validate_rules(rules: dict) -> None:
    ranks = rules.get("ranks")
    if not ranks or len(set(ranks)) != len(ranks):
        raise ValueError("ranks must be a non-empty list of distinct names")
    for band in rules.get("bands", []):
        if band["rank"] not in ranks:
            raise ValueError(f"unknown rank {band['rank']!r} in bands")
    for cap in rules.get("caps", []):
        if cap["cap"] not in ranks:
            raise ValueError(f"unknown rank {cap['cap']!r} in cap {cap.get('name')}")
        for cond in cap["when"]:
            if cond["op"] not in OPS:
                raise ValueError(f"unknown operator {cond['op']!r}")


def _holds(cond: dict, metrics: dict) -> bool:
    value = metrics.get(cond["metric"])
    # A hair of tolerance so that 0.8 computed as 4/5 meets "<= 0.80".
    if value is None:
        return False
    v = round(float(value), 12)
    return OPS[cond["op"]](v, float(cond["value"]))


def rank_unit(metrics: dict, rules: dict, score_metric: str = "satisfaction") -> tuple[str | None, str, str]:
    """(rank, deciding rule, its label) of one unit's ``metrics``."""
    ranks = rules["ranks"]
    score = metrics.get(score_metric)
    if score is None:
        return None, "no_score", "Không có chỉ số"
    rank = ranks[-1]
    for band in sorted(rules.get("bands", []), key=lambda b: -b["min"]):
        if round(float(score), 12) >= band["min"]:
            rank = band["rank"]
            break
    rule, label = f"band:{rank}", f"Thang điểm: {rank}"
    for cap in rules.get("caps", []):
        if all(_holds(c, metrics) for c in cap["when"]) and ranks.index(cap["cap"]) > ranks.index(rank):
            rank, rule, label = cap["cap"], cap["name"], cap.get("label", cap["name"])
    return rank, rule, label


def rank_units(units: dict, rules: dict, score_metric: str = "satisfaction") -> list[Ranked]:
    """Rank every unit of ``{unit: metrics}``; best rank first, then by score."""
    validate_rules(rules)
    ranks = rules["ranks"]
    out = [Ranked(u, *rank_unit(m, rules, score_metric)) for u, m in units.items()]
    scores = {u: (m.get(score_metric) if m.get(score_metric) is not None else -1.0) for u, m in units.items()}
    out.sort(key=lambda r: (ranks.index(r.rank) if r.rank else len(ranks), -scores[r.unit]))
    return out


__all__ = ["PRESETS", "RANKS", "Ranked", "rank_unit", "rank_units", "validate_rules"]
