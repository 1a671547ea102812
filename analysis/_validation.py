"""Shared input checks and small array helpers (internal)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def check_level(level: float) -> float:
    """Return ``level`` as a float, or raise if it is not strictly inside (0, 1)."""
    if isinstance(level, (str, bytes)):
        raise ValueError(f"level must be a number in (0, 1), not text: got {level!r}")
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
    if not (0.0 < value < 1.0):
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    return value


def _has_text(raw: np.ndarray) -> bool:
    if raw.dtype.kind in "USV":
        return True
    if raw.dtype.kind == "O":
        return any(isinstance(x, (str, bytes)) for x in raw.flat)
    return False


def as_float_array(values: ArrayLike, name: str, *, allow_nan: bool = False) -> FloatArray:
    """Convert to a float64 array, rejecting text (even "12"), non-numeric or (by default) non-finite input.

    Text is refused because NumPy would silently parse it: a count read from a form or a CSV
    must be converted by the caller, who knows where it came from.
    """
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric (a number or an array of numbers)") from None
    if _has_text(raw):
        raise ValueError(f"{name} must be numeric (a number or an array of numbers), not text: got {values!r}")
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric (a number or an array of numbers)") from None
    bad = ~np.isfinite(arr) if not allow_nan else np.isinf(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be finite" + ("" if allow_nan else " (no NaN or inf)"))
    return arr


def is_scalar_input(*values: Any) -> bool:
    """True when every argument is a scalar (0-d), so results go back as Python floats."""
    return all(np.ndim(v) == 0 for v in values)


def scalar_or_array(arr: FloatArray, scalar: bool) -> Any:
    """Python float for scalar inputs, otherwise the array itself."""
    return float(arr) if scalar else arr


def z_quantile(level: float) -> float:
    """Two-sided standard normal critical value for a confidence ``level``."""
    from scipy.special import ndtri

    return float(ndtri(0.5 + level / 2.0))


def t_quantile(level: float, df: ArrayLike | None) -> Any:
    """Two-sided Student t critical value; ``df=None`` or inf gives the normal value."""
    if df is None:
        return z_quantile(level)
    from scipy.special import stdtrit

    d = np.asarray(df, dtype=np.float64)
    if np.any(d <= 0):
        raise ValueError("df must be positive")
    q = np.where(np.isinf(d), z_quantile(level), stdtrit(np.where(np.isinf(d), 1.0, d), 0.5 + level / 2.0))
    return float(q) if q.ndim == 0 else q


def check_whole(arr: FloatArray, name: str) -> None:
    """Raise unless every (non-nan) value of ``arr`` is a whole number >= 0."""
    vals = arr[~np.isnan(arr)]
    if np.any(vals < 0):
        raise ValueError(f"{name} must be >= 0")
    if np.any(vals != np.floor(vals)):
        raise ValueError(f"{name} must be a whole number")


def check_target(target: float, strict: bool) -> float:
    """Return ``target`` as a float proportion; a strict 100% target (> 100%) is refused."""
    if _has_text(np.asarray(target)) or np.ndim(target) != 0:
        raise ValueError(f"target must be a number (a proportion in [0, 1]), got {target!r}")
    t = float(target)
    if not (0.0 <= t <= 1.0):
        raise ValueError(f"target must be a proportion in [0, 1], got {target!r}")
    if strict and t >= 1.0:
        raise ValueError("a strict target of 100% (> 100%) can never be met")
    return t


def check_judgement_inputs(
    estimate: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    target: float,
    strict: bool,
    n_dissatisfied: ArrayLike | None,
    n: ArrayLike | None,
) -> tuple[float, FloatArray, FloatArray, FloatArray, FloatArray | None, FloatArray | None]:
    """The one check behind ``judge`` and ``judge_array``: both refuse exactly the same inputs.

    Returns the target and broadcast float arrays for estimate, low, high, n_dissatisfied and n
    (``None`` where not given).  ``nan`` estimates and bounds are allowed (no data); ``nan`` is not
    allowed in the counts.
    """
    t = check_target(target, strict)
    est = as_float_array(estimate, "estimate", allow_nan=True)
    lo = as_float_array(low, "low", allow_nan=True)
    hi = as_float_array(high, "high", allow_nan=True)
    arrays = [est, lo, hi]
    d = nn = None
    if n_dissatisfied is not None:
        d = as_float_array(n_dissatisfied, "n_dissatisfied")
        check_whole(d, "n_dissatisfied")
        arrays.append(d)
    if n is not None:
        nn = as_float_array(n, "n (respondents)")
        check_whole(nn, "n (respondents)")
        arrays.append(nn)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise ValueError("estimate, low, high, n_dissatisfied and n cannot be broadcast together") from None
    est, lo, hi = (np.broadcast_to(a, shape) for a in (est, lo, hi))
    d = None if d is None else np.broadcast_to(d, shape)
    nn = None if nn is None else np.broadcast_to(nn, shape)
    for name, a in (("estimate", est), ("low", lo), ("high", hi)):
        if np.any((a < 0) | (a > 1)):
            raise ValueError(f"{name} must be a proportion in [0, 1]")
    defined = ~(np.isnan(est) | np.isnan(lo) | np.isnan(hi))
    tol = 1e-12
    bad = defined & ~((lo <= est + tol) & (est <= hi + tol))
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        raise ValueError(
            f"need low <= estimate <= high, got {lo.ravel()[i]} <= {est.ravel()[i]} <= {hi.ravel()[i]}"
        )
    if d is not None and nn is not None and np.any(d > nn):
        raise ValueError("n_dissatisfied cannot exceed n (respondents)")
    return t, est, lo, hi, d, nn
