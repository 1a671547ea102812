"""The ``dossiers`` import kind: the same records as ``POST /api/v1/dossiers``, from a file."""
from __future__ import annotations

import sqlalchemy as sa

from flask_babel import lazy_gettext as _l

from .. import imports
from ..extensions import db
from ..models import Dossier, Organisation, ServicePoint, subtree_filter
from .records import FIELDS, Resolver, as_record, parse_batch, write


def _parse(records, context):
    rows, errors = parse_batch([rec for _, rec in records], Resolver(context.scope), indices=[n for n, _ in records])
    return rows, [imports.RowError(e.index, e.field, e.message) for e in errors]


def _export(context):
    scope = context.scope
    q = (sa.select(Dossier, Organisation.code, ServicePoint.code)
         .join(Organisation, Organisation.id == Dossier.organisation_id)
         .outerjoin(ServicePoint, ServicePoint.id == Dossier.service_point_id)
         .order_by(Organisation.code, Dossier.code))
    if scope is not None:
        q = q.where(subtree_filter(Dossier.organisation_id, scope))
    for d, org_code, sp_code in db.session.execute(q):
        yield as_record(d, org_code, sp_code)


KIND = imports.register(imports.Kind(
    name="dossiers",
    title="Hồ sơ TTHC",
    columns=[(key, label) for key, (label, _) in FIELDS.items()],
    parse=_parse,
    apply=write,
    export=_export,
    note=_l("Ngày giờ dạng yyyyMMddHHmmss, giờ Việt Nam."),
    example={"code": "000.00.01.H99-261201-0001", "agency": "SO-TP", "procedure": "1.001234", "field": "G01",
             "service_point": "", "received": "20261201083000", "due": "20261204170000", "returned": "",
             "status": "DangXuLy", "channel": "counter"},
))
