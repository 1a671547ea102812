"""Shared input checks and small array helpers (internal)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def check_level(level: float) -> float:
    """Return ``level`` as a float, or raise if it is not strictly inside (0, 1)."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
    if not (0.0 < value < 1.0):
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    return value


def as_float_array(values: ArrayLike, name: str, *, allow_nan: bool = False) -> FloatArray:
    """Convert to a float64 array, rejecting non-numeric or (by default) non-finite input."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None
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
