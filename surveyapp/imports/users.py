"""The ``users`` import kind: officials' accounts, matched by username (case aside).

A file never carries a password. A new account gets none that can be used: its holder signs
in through single sign-on (docs/DEPLOY.md), or, where password sign-in is allowed, sets one from
the invitation e-mailed to the account's address (:mod:`surveyapp.auth.invitations`). An import
never grants more than the importing account may grant
(:func:`surveyapp.auth.scope.grantable_roles`), nor touches an account it may not manage.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .. import imports
from ..accounts import EmailError, normalise_email
from ..auth.invitations import invite
from ..auth.scope import grantable_roles, may_manage_user, user_filter, within
from ..extensions import db
from ..models import USERNAME_PATTERN, Organisation, User, subtree_filter
from .organisations import existing_by_code

USERNAME_RE = re.compile(USERNAME_PATTERN)
ROLE_NAMES = {"admin": "quản trị viên", "manager": "cán bộ quản lý", "viewer": "người xem"}
ROLES_READ = {**{v: k for k, v in ROLE_NAMES.items()}, **{k: k for k in ROLE_NAMES}}

COLUMNS = [("username", "Tên đăng nhập"), ("full_name", "Họ và tên"), ("email", "Thư điện tử"), ("role", "Vai trò"),
           ("organisation", "Mã đơn vị")]


def _parse(records, context):
    check = imports.Rows(KIND)
    actor, scope = context.actor, context.scope
    grantable = grantable_roles(actor)
    rows, seen = [], {}
    for n, rec in records:
        username = check.required(n, rec, "username", 64)
        if username and (len(username) < 3 or not USERNAME_RE.match(username)):
            check.error(n, "username", _l("Tên đăng nhập gồm 3–64 chữ không dấu, số, dấu chấm, gạch ngang."))
            username = ""
        email = None
        try:
            email = normalise_email(check.text(rec, "email"))
        except EmailError as exc:
            check.error(n, "email", str(exc))
        role = check.choice(n, rec, "role", ROLES_READ, shown=ROLE_NAMES.values())
        if role is not None and role not in grantable:
            check.error(n, "role", _l("Bạn không được cấp vai trò “%(role)s”.", role=ROLE_NAMES[role]))
        org_code = check.code(n, rec, "organisation", 32, required=False)
        if not org_code and role != "admin" and not check.text(rec, "organisation"):
            check.error(n, "organisation", _l("Cán bộ quản lý và người xem phải thuộc một đơn vị."))
        elif not org_code and role == "admin" and scope is not None:
            check.error(n, "organisation", _l("Chỉ quản trị viên hệ thống tạo được tài khoản không thuộc đơn vị."))
        r = {"row": n, "username": username, "full_name": check.optional(n, rec, "full_name", 255), "email": email,
             "role": role, "organisation": org_code or None}
        if username and not check.duplicate(n, "username", seen, username.lower()):
            rows.append(r)
    orgs = existing_by_code(r["organisation"] for r in rows if r["organisation"])
    stored = {}
    for part in imports.chunked(sorted({r["username"].lower() for r in rows})):
        for u in db.session.scalars(sa.select(User).where(sa.func.lower(User.username).in_(part))):
            stored[u.username.lower()] = u
    for r in rows:
        n = r["row"]
        org = orgs.get(r["organisation"]) if r["organisation"] else None
        if r["organisation"] and not within(org, scope):
            check.error(n, "organisation", _l("Không có đơn vị mã “%(code)s” trong phạm vi của bạn.",
                                              code=r["organisation"]))
        r["organisation_id"] = org.id if org is not None else None
        user = stored.get(r["username"].lower())
        if user is None:
            r["id"] = None
            continue
        if not may_manage_user(user, actor) or (scope is not None and not within(user.organisation, scope)):
            check.error(n, "username", _l("Tên đăng nhập “%(name)s” đã thuộc một tài khoản bạn không quản lý được.",
                                          name=r["username"]))
        elif user.id == actor.id and (r["role"] != user.role or r["organisation_id"] != user.organisation_id):
            check.error(n, "role", _l("Bạn không thể tự đổi vai trò hoặc đơn vị của mình."))
        r["id"] = user.id
    return rows, check.errors


def _apply(rows):
    counts = {"created": 0, "updated": 0, "unchanged": 0, "invited": 0}
    created = []
    stored = {u.id: u for part in imports.chunked([r["id"] for r in rows if r["id"]])
              for u in db.session.scalars(sa.select(User).where(User.id.in_(part)))}
    for r in rows:
        values = {"full_name": r["full_name"], "email": r["email"], "role": r["role"],
                  "organisation_id": r["organisation_id"]}
        user = stored.get(r["id"])
        if user is None:
            # The language named (not left to the server default) so that the invitation below
            # reads it without a query per account.
            user = User(username=r["username"], language="vi", **values)
            user.set_unusable_password()
            db.session.add(user)
            created.append(user)
            counts["created"] += 1
        elif all(getattr(user, k) == v for k, v in values.items()):
            counts["unchanged"] += 1
        else:
            if (user.role, user.organisation_id) != (r["role"], r["organisation_id"]):
                user.end_sessions()  # authority changed: sessions restart with the new one
            for k, v in values.items():
                setattr(user, k, v)
            counts["updated"] += 1
    db.session.flush()
    # In the import's transaction: no invitation without its account, nor the reverse.
    counts["invited"] = sum(invite(user) for user in created)
    return counts


def _export(context):
    # The accounts the actor may manage: what it exports it can import back.
    q = (sa.select(User, Organisation.code).outerjoin(Organisation, Organisation.id == User.organisation_id)
         .where(user_filter(context.actor)).order_by(sa.func.lower(User.username)))
    if context.scope is not None:
        q = q.where(subtree_filter(User.organisation_id, context.scope))
    for user, org_code in db.session.execute(q):
        yield {"username": user.username, "full_name": user.full_name or "", "email": user.email or "",
               "role": ROLE_NAMES[user.role], "organisation": org_code or ""}


KIND = imports.register(imports.Kind(
    name="users",
    title=_l("Tài khoản cán bộ"),
    columns=COLUMNS,
    parse=_parse,
    apply=_apply,
    export=_export,
    example={"username": "nguyenvana", "full_name": "Nguyễn Văn A", "email": "nguyenvana@tanlap.gov.vn",
             "role": "người xem", "organisation": "26734"},
))
