"""The weighting volume of each service point and month, and where it comes from.

Where the one-stop software's dossier records name a service point, the dossiers received there
in a local month are that month's volume (``dossiers.metrics.service_point_volumes``, read from
the counts stored with the records, ``dossiers.volumes``); where there are none, the volume
officials entered by hand stays (``queries.fetch_volumes``). Both count whole local months, so a
period that ends mid-month weighs every point alike.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from flask_babel import lazy_gettext as _l

from .filters import Filters, month_end
from .queries import fetch_volumes

DOSSIERS, ENTERED, MIXED, NONE = "dossiers", "entered", "mixed", "none"
SOURCE_LABELS = {
    DOSSIERS: _l("số hồ sơ tiếp nhận (phần mềm một cửa)"),
    ENTERED: _l("số lượt phục vụ nhập tay"),
    MIXED: _l("số hồ sơ tiếp nhận và số lượt phục vụ nhập tay"),
    NONE: _l("không có trọng số (các phiếu tính như nhau)"),
}


def weighting_volumes(sp_ids: Iterable[int], f: Filters) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], str]]:
    """({(service point, month key): volume}, {(service point, month key): DOSSIERS or ENTERED})
    over the period and the previous one."""
    # As in decision766: the dossiers package imports the import framework, which imports reports.
    from ..dossiers.metrics import service_point_volumes

    ids = sorted({int(i) for i in sp_ids})
    entered = fetch_volumes(ids, f)
    counted = service_point_volumes(ids, f.previous().date_from.replace(day=1), month_end(f.date_to))
    volumes = {**entered, **counted}
    sources = {**{k: ENTERED for k in entered}, **{k: DOSSIERS for k in counted}}
    return volumes, sources


def source_of(sp: np.ndarray, month: np.ndarray, sources: dict[tuple[int, int], str], weighted: bool) -> str:
    """Where the weights of the cells at (``sp``, ``month``) came from: DOSSIERS, ENTERED, MIXED,
    or NONE when the estimate is not weighted (some point has no volume)."""
    if not weighted or not sp.size:
        return NONE
    seen = {sources.get((int(s), int(m))) for s, m in set(zip(sp.tolist(), month.tolist()))} - {None}
    if not seen:
        return NONE
    return seen.pop() if len(seen) == 1 else MIXED
