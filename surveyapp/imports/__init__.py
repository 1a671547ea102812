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
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Iterable

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook, load_workbook

from ..audit import record
from ..auth.scope import installation_operator, scope_root
from ..extensions import db
from ..models import CODE_PATTERN
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
    ``parse(records, context) -> (parsed, [RowError])`` with ``records`` a list of (row number,
    {key: value}); ``apply(parsed) -> counts``; ``export(context) -> records`` (see
    :class:`Context`)."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    parse: Callable
    apply: Callable
    export: Callable
    example: dict = field(default_factory=dict)
    note: str = ""  # how to fill it in, shown on the workspace page


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


@dataclass
class Context:
    """Who imports: ``actor`` (an account, or :func:`~surveyapp.auth.scope.installation_operator`
    at the shell) and ``scope``, the root of the subtree it may change (None: everything). A
    row outside the scope is an error of that row."""

    actor: object
    scope: object = None


def context_for(actor=None, scope=None) -> Context:
    """The signed-in user's context in a request; the installation operator's otherwise. An
    explicit ``scope`` narrows it (tests and scripts acting for one subtree)."""
    if actor is None:
        signed_in = has_request_context() and getattr(current_user, "is_authenticated", False)
        actor = current_user._get_current_object() if signed_in else installation_operator()
    return Context(actor, scope if scope is not None else scope_root(actor))


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


def _header_key(text: str) -> str:
    # Spreadsheets may store Vietnamese headers decomposed (NFD) or in another case.
    return unicodedata.normalize("NFC", text).strip().lower()


def records_of(kind: Kind, header: list[str], rows: list[list]) -> list[tuple[int, dict]]:
    by_header = {_header_key(h): key for key, h in kind.columns}
    by_header.update({key.lower(): key for key, _ in kind.columns})
    keys = []
    for h in header:
        key = by_header.get(_header_key(h))
        if key is None and h:
            raise FileProblem(str(_l("Cột “%(h)s” không có trong mẫu.", h=h)))
        keys.append(key)
    out = []
    for i, r in enumerate(rows):
        rec = {k: v for k, v in zip(keys, r) if k is not None and v not in (None, "")}
        out.append((i + 2, rec))
    return out


def run_import(kind_name: str, filename: str, data: bytes, *, scope=None, actor=None,
               dry_run: bool = False) -> ImportResult:
    """Validate every row; unless ``dry_run`` or a row is bad, apply them all and audit it, in
    one transaction (committed here). ``actor`` and ``scope``: see :func:`context_for`."""
    kind = get(kind_name)
    header, rows = read_table(filename, data)
    records = records_of(kind, header, rows)
    context = context_for(actor, scope)
    try:
        parsed, errors = kind.parse(records, context)
        if errors or dry_run:
            db.session.rollback()
            return ImportResult(kind.name, len(records), errors, {}, dry_run)
        counts = kind.apply(parsed)
        if counts.get("created") or counts.get("updated"):
            event = record("import", None, after={"kind": kind.name, "file": filename[:200], "rows": len(records),
                                                  **counts}, object_type="import", object_id=kind.name)
            event.user_id = context.actor.id  # who imported, signed in or named by a script; None at the shell
        db.session.commit()
    except sa.exc.IntegrityError as exc:
        # Another change stored the same code between the check and the write: nothing is stored.
        db.session.rollback()
        raise FileProblem(str(_l("Dữ liệu vừa được thay đổi cùng lúc; không lưu gì. Vui lòng nhập lại."))) from exc
    except Exception:
        db.session.rollback()
        raise
    return ImportResult(kind.name, len(records), [], counts, False)


def export_rows(kind_name: str, scope=None, actor=None) -> tuple[list[str], list[list]]:
    kind = get(kind_name)
    keys = [k for k, _ in kind.columns]
    records = kind.export(context_for(actor, scope))
    return [h for _, h in kind.columns], [[inert(rec.get(k, "")) for k in keys] for rec in records]


def write_export(kind_name: str, filename: str, out, scope=None, actor=None) -> int:
    """Write the kind's records to the binary file ``out`` as CSV (with BOM) or XLSX, by
    ``filename``'s extension; returns the number of rows. ``actor`` and ``scope``: what
    :func:`context_for` says, so that an export holds what its actor may import back."""
    header, rows = export_rows(kind_name, scope, actor)
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


# ---------------------------------------------------------------------------------------------
# Reading cells: what every kind's parser shares.

CODE_RE = re.compile(CODE_PATTERN)
# An all-digit code is a national administrative-unit code (mã đơn vị hành chính, Decision
# 124/2004/QĐ-TTg): 2 digits a province, 3 a district (before 2025), 5 a commune. Any other
# length is a code a spreadsheet stripped of its leading zeros.
NATIONAL_CODE_LENGTHS = (2, 3, 5)


class Rows:
    """Collects the errors of one parse, naming each column by the kind's header."""

    def __init__(self, kind: Kind):
        self.labels = dict(kind.columns)
        self.errors: list[RowError] = []

    def error(self, row: int, key: str, message) -> None:
        self.errors.append(RowError(row, self.labels.get(key, key), message))

    def text(self, rec: dict, key: str) -> str:
        value = rec.get(key)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():  # a spreadsheet's number cell
            value = int(value)
        return unicodedata.normalize("NFC", str(value)).strip()

    def required(self, row: int, rec: dict, key: str, max_len: int) -> str:
        value = self.text(rec, key)
        if not value:
            self.error(row, key, _l("Thiếu giá trị bắt buộc."))
        elif len(value) > max_len:
            self.error(row, key, _l("Dài quá %(n)d ký tự.", n=max_len))
            return ""
        return value

    def optional(self, row: int, rec: dict, key: str, max_len: int) -> str | None:
        value = self.text(rec, key)
        if len(value) > max_len:
            self.error(row, key, _l("Dài quá %(n)d ký tự.", n=max_len))
        return value or None

    def code(self, row: int, rec: dict, key: str, max_len: int, *, required: bool = True) -> str:
        """An official code: letters without diacritics, digits, dots, hyphens; "" when bad or absent."""
        if isinstance(rec.get(key), (int, float)):
            self.error(row, key, _l("Mã là ô kiểu số, dễ mất số 0 ở đầu: hãy định dạng ô là văn bản (Text)."))
            return ""
        value = self.text(rec, key)
        if not value:
            if required:
                self.error(row, key, _l("Thiếu giá trị bắt buộc."))
            return ""
        if len(value) > max_len:
            self.error(row, key, _l("Dài quá %(n)d ký tự.", n=max_len))
        elif not CODE_RE.match(value):
            self.error(row, key, _l("Mã chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang."))
        elif value.isdigit() and len(value) not in NATIONAL_CODE_LENGTHS:
            self.error(row, key, _l("Mã toàn chữ số là mã đơn vị hành chính: 2 chữ số (tỉnh), 3 (huyện) hoặc "
                                    "5 (xã); có thể tệp đã mất số 0 ở đầu."))
        else:
            return value
        return ""

    def choice(self, row: int, rec: dict, key: str, choices: dict[str, str], *, required: bool = True,
               shown: Iterable[str] | None = None) -> str | None:
        """One of ``choices`` (accepted spelling, lower case -> stored value); the error names
        ``shown`` (default: every accepted spelling)."""
        value = self.text(rec, key).lower()
        if not value:
            if required:
                self.error(row, key, _l("Thiếu giá trị bắt buộc."))
            return None
        if value not in choices:
            listed = ", ".join(f"“{k}”" for k in (shown if shown is not None else choices))
            self.error(row, key, _l("Giá trị không hợp lệ; dùng một trong: %(values)s.", values=listed))
            return None
        return choices[value]

    def day(self, row: int, rec: dict, key: str, *, required: bool = True) -> date | None:
        """A date as yyyy-mm-dd, dd/mm/yyyy or a spreadsheet date cell."""
        value = rec.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = self.text(rec, key)
        if not text:
            if required:
                self.error(row, key, _l("Thiếu giá trị bắt buộc."))
            return None
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.error(row, key, _l("Ngày không hợp lệ (dạng năm-tháng-ngày, ví dụ 2026-01-31, hoặc 31/01/2026)."))
        return None

    def duplicate(self, row: int, key: str, seen: dict, value) -> bool:
        """True (with an error) when ``value`` was already on an earlier row."""
        if value in seen:
            self.error(row, key, _l("Lặp lại giá trị đã có ở dòng %(n)d.", n=seen[value]))
            return True
        seen[value] = row
        return False


def chunked(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i:i + size]


__all__ = ["Kind", "KINDS", "RowError", "ImportResult", "FileProblem", "Context", "context_for", "Rows",
           "register", "get", "read_table", "run_import", "export_rows", "write_export", "write_table", "template",
           "chunked"]

from . import organisations, service_points, targets, users, volumes  # noqa: E402,F401  (register the kinds)
