"""Benchmark: the ``report-subscriptions`` job on the demo province, against its baseline, the
filed báo cáo built alone (what ``report --format docx|pdf`` does).

    .venv/bin/python bench/bench_report_subscriptions.py [--responses 20000] [--recipients 3]

On a fresh SQLite database in a temporary folder: seeds the demo, subscribes each of the nine
organisations to last month's report (DOCX, then DOCX and PDF) with ``--recipients`` accounts
each, and times one run of the job (build, claim, attachments, e-mails) and the delivery of
its e-mails to a mail folder. Prints seconds per subscription, the ratio to building the
document alone, and the bytes stored per e-mail (one stored file serves every recipient).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--recipients", type=int, default=3)
    args = parser.parse_args()
    from surveyapp import create_app
    from surveyapp.cli import upgrade_to_head
    from surveyapp.documents import subscriptions as subs
    from surveyapp.documents.report import filed_bytes, header_from, org_report
    from surveyapp.extensions import db
    from surveyapp.models import Attachment, Organisation, OutboxItem, ReportDelivery, ReportSubscription, User
    from surveyapp.outbox import deliver_due
    from surveyapp.reports.filters import Filters
    from surveyapp.seed import seed_demo
    from surveyapp.workdays import load_calendar

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "MAIL_BACKEND": "folder", "MAIL_FOLDER": f"{tmp}/mail", "TESTING": True})
        with app.app_context():
            upgrade_to_head()
            seed_demo(seed=2026, n_responses=args.responses)
            orgs = list(db.session.scalars(sa.select(Organisation).order_by(Organisation.id)))
            users = []
            for i in range(args.recipients):
                user = User(username=f"bench{i}", role="admin", email=f"bench{i}@example.gov.vn",
                            full_name=f"Người nhận {i}", password_hash="x")
                db.session.add(user)
                users.append(user)
            db.session.commit()
            first, last = subs.latest_due_period("month", subs.clock.today(), load_calendar())
            print(f"{args.responses:,} demo responses; {len(orgs)} organisations; period {first} – {last}; "
                  f"{args.recipients} recipients each")

            for formats in (("docx",), ("docx", "pdf")):
                db.session.execute(sa.delete(ReportDelivery))
                for sub in db.session.scalars(sa.select(ReportSubscription)):
                    subs.unsubscribe(sub)
                db.session.commit()
                for org in orgs:
                    subs.subscribe(org, subs.SubscriptionInput(
                        period_kind="month", formats=formats, language="vi", signer_title="Chủ tịch",
                        recipients=users, send_last=True), scope_root=None)
                db.session.commit()

                # Baseline: the document alone, per organisation (rollups already built by the seed's
                # first report below, so both sides read the same cells).
                base = []
                for org in orgs:
                    f = Filters(first, last)
                    t0 = time.perf_counter()
                    report = org_report(org, f, "vi")
                    h = header_from(org, f, signer_title="Chủ tịch")
                    for fmt in formats:
                        filed_bytes(report, h, fmt, "vi")
                    base.append(time.perf_counter() - t0)

                before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem))
                t0 = time.perf_counter()
                queued = subs.send_due_reports()
                job = time.perf_counter() - t0
                t0 = time.perf_counter()
                sent = deliver_due(limit=10_000)
                delivery = time.perf_counter() - t0
                again = subs.send_due_reports()
                items = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) - before
                stored = db.session.scalar(sa.select(sa.func.sum(sa.func.length(Attachment.data))))
                db.session.execute(sa.delete(OutboxItem))
                db.session.execute(sa.text("DELETE FROM outbox_attachment"))
                db.session.execute(sa.delete(Attachment))
                db.session.commit()
                per_sub = job / len(orgs)
                print(f"{'+'.join(formats):9} job: {job:.2f} s for {len(orgs)} subscriptions "
                      f"({per_sub:.2f} s each; document alone median {statistics.median(base):.2f} s, "
                      f"ratio {per_sub / statistics.mean(base):.2f}); {queued} e-mails queued, {items} rows; "
                      f"delivered {sent} to the folder in {delivery:.2f} s; second run queued {again}; "
                      f"{stored / max(items, 1) / 1024:.0f} KiB stored per e-mail")


if __name__ == "__main__":
    main()
