"""Fixtures for the analysis tests: the R `survey` api samples, copied from shared/reference."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long simulation, optional")


def _load(name: str) -> dict[str, np.ndarray]:
    with open(DATA / name, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


@pytest.fixture(scope="session")
def apistrat() -> dict[str, np.ndarray]:
    return _load("apistrat.csv")


@pytest.fixture(scope="session")
def apiclus1() -> dict[str, np.ndarray]:
    return _load("apiclus1.csv")
