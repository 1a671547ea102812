"""Per-group moments of respondent rows: the one computation of counts, sums and cross products.

What the SQL ``GROUP BY`` of the moments form produces (see :func:`analysis.composite_from_moments`),
computed from respondent rows in NumPy. A row may stand for several identical respondents
(``count``), which is how reports fold identical answer patterns before the arithmetic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_float_array

__all__ = ["group_moments"]


def group_moments(x: ArrayLike, groups: ArrayLike,
                  count: ArrayLike | None = None) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray]:
    """Per-group respondent counts, sums and cross products of the rows of ``x`` (rows, p).

    Row i stands for ``count[i]`` identical respondents (one each by default). Returns
    ``(labels, n, sums, cross)`` with ``labels`` the sorted distinct ``groups``, ``n`` (G,),
    ``sums`` (G, p) and ``cross`` (G, p, p). One matrix product per group, so the cost grows
    with p² only inside BLAS, which matters for a composite of some thirty items.
    """
    xx = as_float_array(x, "x")
    if xx.ndim != 2:
        raise ValueError("x must be (respondents, p)")
    g = np.asarray(groups)
    if g.shape != (xx.shape[0],):
        raise ValueError("groups must hold one label per row of x")
    c = np.ones(xx.shape[0]) if count is None else as_float_array(count, "count")
    if c.shape != (xx.shape[0],):
        raise ValueError("count must hold one number per row of x")
    if np.any(c < 0):
        raise ValueError("count must be >= 0")
    labels, code = np.unique(g, return_inverse=True)
    code = code.ravel()
    n_groups, p = labels.size, xx.shape[1]
    n = np.bincount(code, weights=c, minlength=n_groups)
    sums = np.zeros((n_groups, p))
    cross = np.zeros((n_groups, p, p))
    if code.size:
        order = np.argsort(code, kind="stable")
        xs, cs = xx[order], code[order]
        cx = xs * c[order][:, None]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(cs)) + 1])
        sums[cs[starts]] = np.add.reduceat(cx, starts, axis=0)
        ends = np.append(starts[1:], cs.size)
        for a, b in zip(starts, ends):
            cross[cs[a]] = cx[a:b].T @ xs[a:b]
    return labels, n, sums, cross
