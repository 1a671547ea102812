"""The demo's comments (demo_comments.txt), by sector, for seed-demo to draw from."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DEMO_PATH = Path(__file__).with_name("demo_comments.txt")
SECTOR_MARKS = {"[a]": "administrative", "[h]": "health", "[s]": "education"}  # models.SECTORS


@lru_cache(maxsize=1)
def _by_sector() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {sector: [] for sector in SECTOR_MARKS.values()}
    for line in DEMO_PATH.read_text(encoding="utf-8").splitlines():
        mark, _, text = line.partition(" ")
        if mark in SECTOR_MARKS and text.strip():
            found[SECTOR_MARKS[mark]].append(text.strip())
    return {sector: tuple(texts) for sector, texts in found.items()}


def demo_comments(sector: str | None = None) -> tuple[str, ...]:
    """The demo comments of one sector (``models.SECTORS``), or all of them."""
    by_sector = _by_sector()
    if sector is None:
        return tuple(t for texts in by_sector.values() for t in texts)
    return by_sector[sector]
