"""Bulk import and export of tabular records (CSV, UTF-8 with or without BOM, and XLSX).

Each KIND registers a :class:`Kind`: its columns (the template), a parser that validates every
row and returns errors (row, column, message in Vietnamese), an apply step and an exporter that
writes what the importer reads. :func:`run_import` is the one path the workspace and the CLI
share: a dry run lists every bad row and changes nothing; a real run stores every row or none,
in one transaction with an audit event. Re-importing the same file changes nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook

from ..audit import record
from ..extensions import db
from ..reports.exports import FORMULA_START, inert

MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number: the header is row 1
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": str(self.message)}


@dataclass
class Kind:
    """What one kind of record needs. ``columns``: (record key, header) pairs in template order;
    ``parse(records, scope) -> (parsed, [RowError])`` with ``records`` a list of (row number,
    {key: value}); ``apply(parsed) -> counts``; ``export(scope) -> records``."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    parse: Callable
    apply: Callable
    export: Callable
    example: dict = field(default_factory=dict)


@dataclass
class ImportResult:
    kind: str
    rows: int
    errors: list[RowError]
    counts: dict
    dry_run: bool

    @property
    def ok(self) -> bool:
        return not self.errors


class FileProblem(ValueError):
    """The file as a whole cannot be read (format, header, size): a message in Vietnamese."""


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.name in KINDS and KINDS[kind.name] is not kind:
        raise ValueError(f"import kind {kind.name} registered twice")
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise FileProblem(str(_l("Không có loại dữ liệu “%(name)s”.", name=name))) from None


def _uninert(value):
    # Export prefixes formula-like text with a quote; reading it back removes exactly that quote.
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def read_table(filename: str, data: bytes) -> tuple[list[str], list[list]]:
    """(header, rows) of a CSV or XLSX file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a damaged file
            raise FileProblem(str(_l("Không đọc được tệp XLSX."))) from exc
        ws = wb.worksheets[0]
        table = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileProblem(str(_l("Tệp CSV phải mã hóa UTF-8."))) from exc
        table = list(csv.reader(io.StringIO(text, newline="")))
    else:
        raise FileProblem(str(_l("Chỉ nhận tệp .csv hoặc .xlsx.")))
    table = [r for r in table if any(c not in (None, "") for c in r)]
    if not table:
        raise FileProblem(str(_l("Tệp không có dòng tiêu đề.")))
    if len(table) - 1 > MAX_ROWS:
        raise FileProblem(str(_l("Tệp có quá %(n)d dòng.", n=MAX_ROWS)))
    header = ["" if h is None else str(h).strip() for h in table[0]]
    return header, [[_uninert(c) for c in r] for r in table[1:]]


def records_of(kind: Kind, header: list[str], rows: list[list]) -> list[tuple[int, dict]]:
    by_header = {h.lower(): key for key, h in kind.columns}
    by_header.update({key.lower(): key for key, _ in kind.columns})
    keys = []
    for h in header:
        key = by_header.get(h.lower())
        if key is None and h:
            raise FileProblem(str(_l("Cột “%(h)s” không có trong mẫu.", h=h)))
        keys.append(key)
    out = []
    for i, r in enumerate(rows):
        rec = {k: v for k, v in zip(keys, r) if k is not None and v not in (None, "")}
        out.append((i + 2, rec))
    return out


def run_import(kind_name: str, filename: str, data: bytes, *, scope=None, dry_run: bool = False) -> ImportResult:
    """Validate every row; unless ``dry_run`` or a row is bad, apply them all and audit it, in
    one transaction (committed here)."""
    kind = get(kind_name)
    header, rows = read_table(filename, data)
    records = records_of(kind, header, rows)
    try:
        parsed, errors = kind.parse(records, scope)
        if errors or dry_run:
            db.session.rollback()
            return ImportResult(kind.name, len(records), errors, {}, dry_run)
        counts = kind.apply(parsed)
        if counts.get("created") or counts.get("updated"):
            record("import", None, after={"kind": kind.name, "file": filename[:200], "rows": len(records), **counts},
                   object_type="import", object_id=kind.name)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ImportResult(kind.name, len(records), [], counts, False)


def export_rows(kind_name: str, scope=None) -> tuple[list[str], list[list]]:
    kind = get(kind_name)
    keys = [k for k, _ in kind.columns]
    return [h for _, h in kind.columns], [[inert(rec.get(k, "")) for k in keys] for rec in kind.export(scope)]


def write_export(kind_name: str, filename: str, out, scope=None) -> int:
    """Write the kind's records to the binary file ``out`` as CSV (with BOM) or XLSX, by
    ``filename``'s extension; returns the number of rows."""
    header, rows = export_rows(kind_name, scope)
    write_table(filename, out, header, rows)
    return len(rows)


def write_table(filename: str, out, header: list[str], rows: Iterable[list]) -> None:
    if filename.lower().endswith(".xlsx"):
        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(out)
    else:
        text = io.StringIO(newline="")
        w = csv.writer(text)
        w.writerow(header)
        w.writerows(rows)
        out.write(text.getvalue().encode("utf-8-sig"))


def template(kind_name: str, filename: str, out) -> None:
    """An empty file with the kind's header and one example row."""
    kind = get(kind_name)
    write_table(filename, out, [h for _, h in kind.columns], [[kind.example.get(k, "") for k, _ in kind.columns]])


__all__ = ["Kind", "KINDS", "RowError", "ImportResult", "FileProblem", "register", "get", "read_table",
           "run_import", "export_rows", "write_export", "write_table", "template"]
