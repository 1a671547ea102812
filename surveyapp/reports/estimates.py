"""Moment cells and the estimates computed from them.

From the respondent rows (:mod:`.queries`) NumPy builds moment cells: per group, respondents,
column sums and cross products of x = [satisfied, answered] per index item (the moments form
of :func:`analysis.composite_from_moments`). Cells of disjoint respondents add up exactly, so
rollup cells (:mod:`.rollups`) and raw ones mix freely. ``analysis`` then does all the
statistics with the respondent as the cluster.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import analysis
from analysis.moments import group_moments

from ..models import Questionnaire
from .queries import Respondents

LEVEL = 0.95


@dataclass
class Layout:
    """The index questions of one questionnaire: bit positions, aspect of each, labels."""

    questionnaire: Questionnaire
    positions: np.ndarray
    question_ids: list[int]
    codes: list[str]
    aspect_of: list[str]
    aspect_titles: dict[str, tuple[str, str]]

    @property
    def indicator(self) -> str:
        return self.questionnaire.indicator


def layout_for(q: Questionnaire) -> Layout:
    qs = [x for x in q.questions if x.counts_in_index]
    titles = {a.code: (a.title_vi, a.title_en) for a in q.aspects}
    return Layout(
        questionnaire=q,
        positions=np.asarray([x.position for x in qs], dtype=np.int64),
        question_ids=[x.id for x in qs],
        codes=[x.code for x in qs],
        aspect_of=[x.aspect.code if x.aspect else x.code for x in qs],
        aspect_titles=titles,
    )


def _bits(masks: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return ((masks[:, None] >> positions[None, :]) & 1).astype(np.float64)


def _columns(r: Respondents, lay: Layout, pooled: bool) -> np.ndarray:
    """x_i: satisfied then answered columns, per item, or pooled over items (overall rate, quick)."""
    s = _bits(r.satisfied, lay.positions)
    a = _bits(r.answered, lay.positions)
    if pooled:
        return np.stack([s.sum(axis=1), a.sum(axis=1)], axis=1)
    return np.concatenate([s, a], axis=1)


def pack_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each packed cross product (``analysis.cross_product_pairs`` order)."""
    return np.triu_indices(p)


def positions_key(lay: Layout) -> str:
    """The index items' bit positions, stored with rollup cells to check they still match."""
    return ",".join(str(int(p)) for p in lay.positions)


def cells_of(r: Respondents, lay: Layout, keys: list[np.ndarray]):
    """Moment cells of respondents ``r`` (one questionnaire) grouped by the columns ``keys``:
    (first row of each cell, n, dissatisfied, sums, packed cross)."""
    x = _columns(r, lay, False)
    _, first, codes = np.unique(np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True)
    codes = codes.ravel()
    g = first.size
    _, n, sums, cross = group_moments(x, codes, r.count)
    pooled = _columns(r, lay, True)
    dissatisfied = np.bincount(codes, weights=r.count * ((pooled[:, 1] - pooled[:, 0]) > 0), minlength=g)
    rows, cols = pack_index(x.shape[1])
    return first, n, dissatisfied, sums, cross[:, rows, cols]


def empty_cells(lay: Layout) -> Cells:
    j2 = 2 * lay.positions.size
    empty = np.zeros(0, dtype=np.int64)
    return Cells(empty, empty.astype(bool), empty, empty.astype(bool), empty.astype(np.float64),
                 empty.astype(np.float64), np.zeros((0, j2)), np.zeros((0, j2 * (j2 + 1) // 2)))


@dataclass
class Cells:
    """Moment cells of one questionnaire: per row, respondents ``n``, dissatisfied respondents,
    column sums (G, 2J) and packed cross products (G, J(2J+1)) of x = [satisfied, answered]
    per index item. A raw respondent row is the cell n = count, sums = count x, cross = count x xᵀ;
    cells of disjoint respondents add up."""

    sp: np.ndarray
    kiosk: np.ndarray
    month: np.ndarray
    current: np.ndarray
    n: np.ndarray
    dissatisfied: np.ndarray
    sums: np.ndarray
    cross: np.ndarray

    def take(self, mask: np.ndarray) -> Cells:
        return Cells(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return int(self.sp.size)


@dataclass
class Estimate:
    """An index with its interval and what it rests on; ``None`` fields when undefined."""

    estimate: float | None
    low: float | None
    high: float | None
    n: int
    n_eff: float | None = None
    dissatisfied: int = 0
    # The bounds the verdict is judged on: the one-sided exact test at 5% that the sample-size
    # planner inverts (analysis.verdict_bounds), not the 95% interval shown.
    verdict_low: float | None = None
    verdict_high: float | None = None

    @property
    def defined(self) -> bool:
        return self.estimate is not None


def _f(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _pooled(c: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Sums and packed cross products of x = [Σ satisfied, Σ answered] (overall rate, quick, the
    dissatisfied count), from the item-level ones: x_pooled = x T, so the cross products are
    sums of item-level ones (off-diagonal pairs of a block twice, by symmetry)."""
    j = c.sums.shape[1] // 2
    rows, cols = pack_index(2 * j)
    twice = np.where(rows == cols, 1.0, 2.0)
    ss = (rows < j) & (cols < j)
    sa_ = (rows < j) & (cols >= j)
    aa = rows >= j
    w = np.stack([np.where(ss, twice, 0.0), sa_.astype(np.float64), np.where(aa, twice, 0.0)], axis=1)
    sums = np.stack([c.sums[:, :j].sum(axis=1), c.sums[:, j:].sum(axis=1)], axis=1)
    return sums, c.cross @ w


def _sum_by(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups,) + values.shape[1:])
    if codes.size:
        order = np.argsort(codes, kind="stable")
        cs = codes[order]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(cs)) + 1])
        out[cs[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


def estimate_by(c: Cells, lay: Layout, key: np.ndarray, volumes: dict | None,
                kind: str = "headline") -> dict[Any, Estimate]:
    """Index per value of ``key`` (one per cell), combining service points weighted by service volume.

    Groups are (key, service point): each point is a stratum, and each of its responses
    weighs volume / responses (the domain's rule), unless some point has no recorded
    volume, in which case every response weighs the same (said in the report's method).
    A group's moments are the sums of its cells' (whole numbers, so exactly those of its
    respondents). ``kind``: "headline" (the questionnaire's indicator), "aspects", or "items".
    """
    if len(c) == 0:
        return {}
    pooled = kind == "headline" and lay.indicator in ("overall_rate", "quick")
    keys, key_code = np.unique(key, return_inverse=True)
    key_code = key_code.ravel()
    width = int(c.sp.max()) + 1
    pairs, codes = np.unique(key_code.astype(np.int64) * width + c.sp, return_inverse=True)
    codes = codes.ravel()
    g_key = pairs // width
    g_sp = pairs % width
    cell_sums, cell_cross = _pooled(c) if pooled else (c.sums, c.cross)
    n = np.bincount(codes, weights=c.n, minlength=pairs.size)
    sums = _sum_by(codes, cell_sums, pairs.size)
    cross = _sum_by(codes, cell_cross, pairs.size)
    weights = None
    if volumes is not None:
        # Volume of each group: its point's volume over the months its responses fall in.
        mmin = int(c.month.min())
        span = int(c.month.max()) - mmin + 1
        vol = np.zeros(pairs.size)
        for gm in np.unique(codes * span + (c.month - mmin)):
            gi, m = divmod(int(gm), span)
            vol[gi] += volumes.get((int(g_sp[gi]), m + mmin), 0)
        weights = vol / n if np.all(vol > 0) else None
    dissatisfied = np.bincount(key_code, weights=c.dissatisfied, minlength=keys.size)
    if kind == "headline":
        aspects = None if pooled else lay.aspect_of
        est = analysis.composite_from_moments(n, sums, cross, aspects=aspects, weights=weights, org=g_key, level=LEVEL)
        out = {keys[i]: Estimate(_f(est.estimate[i]), _f(est.low[i]), _f(est.high[i]), int(est.n[i]),
                                 _f(est.n_eff[i]), int(dissatisfied[i]),
                                 _f(est.verdict_low[i]), _f(est.verdict_high[i])) for i in range(keys.size)}
        if lay.indicator == "quick":
            # One tap per respondent: where no volume weighting is involved (one point, or no
            # volumes) the index is a plain proportion, with the plain Wilson interval.
            plain = (np.bincount(g_key, minlength=keys.size) == 1) | (weights is None)
            k = np.bincount(g_key, weights=sums[:, 0], minlength=keys.size)
            m = np.bincount(g_key, weights=sums[:, 1], minlength=keys.size)
            low, high = analysis.proportion_ci(k, m, level=LEVEL)
            for i in np.flatnonzero(plain & (m > 0)):
                e = out[keys[i]]
                e.estimate, e.low, e.high = float(k[i] / m[i]), float(low[i]), float(high[i])
                e.verdict_low, e.verdict_high = analysis.verdict_bounds(int(round(k[i])), int(round(m[i])))
        return out
    labels = lay.aspect_of if kind == "aspects" else lay.codes
    est = analysis.aspect_indices_from_moments(n, sums, cross, aspects=labels, weights=weights, org=g_key, level=LEVEL)
    order = list(dict.fromkeys(labels))
    out = {}
    for i in range(keys.size):
        out[keys[i]] = {c: Estimate(_f(est.estimate[i, j]), _f(est.low[i, j]), _f(est.high[i, j]), int(est.n[i, j]),
                                    _f(est.n_eff[i, j])) for j, c in enumerate(order)}
    return out
