"""analysis.moments.group_moments: the same counts, sums and cross products as the per-pair
form on unfolded respondents, and folding identical respondents into one weighted row
changes nothing."""
from __future__ import annotations

import numpy as np
import pytest

from analysis import indices
from analysis.moments import group_moments


def test_same_moments_as_the_pairwise_form():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, size=(500, 7)).astype(float)
    groups = rng.integers(0, 9, size=500) * 10
    labels, n, sums, cross = group_moments(x, groups)
    ref = indices.group_moments(x, groups)
    np.testing.assert_array_equal(labels, ref[0])
    for mine, theirs in zip((n, sums, cross), ref[1:]):
        np.testing.assert_allclose(mine, theirs)


def test_folded_rows_give_the_moments_of_the_respondents_they_stand_for():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, size=(60, 4)).astype(float)
    groups = rng.integers(0, 3, size=60)
    count = rng.integers(1, 5, size=60)
    folded = group_moments(x, groups, count)
    unfolded = group_moments(np.repeat(x, count, axis=0), np.repeat(groups, count))
    for a, b in zip(folded, unfolded):
        np.testing.assert_allclose(a, b)


def test_no_rows_and_bad_input():
    labels, n, sums, cross = group_moments(np.zeros((0, 2)), np.zeros(0, dtype=int))
    assert labels.size == 0 and sums.shape == (0, 2) and cross.shape == (0, 2, 2)
    with pytest.raises(ValueError):
        group_moments(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError):
        group_moments(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError):
        group_moments(np.zeros((3, 2)), np.zeros(3), count=[1, -1, 1])
