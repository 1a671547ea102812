"""Kiosk benchmark: tap-to-thank-you time offline, and the time to sync 10,000 queued ratings.

Runs the app on a local HTTP server (a fresh SQLite file, or --database-url for PostgreSQL
in a schema of its own), drives the real kiosk page in headless Chromium, and prints:

1. tap -> thank-you screen, offline (target < 100 ms): from the click event to the moment
   the rating is in IndexedDB and the thank-you screen is shown, over --taps taps;
2. sync of 10,000 queued ratings through the page's own sync loop (target < 10 s): the
   queue is filled in IndexedDB while offline, then the network comes back;
3. the same 10,000 ratings posted straight to the API in batches of 500 (server side only).

    .venv/bin/python bench/bench_kiosk.py [--ratings 10000] [--taps 50] [--database-url postgresql://...]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def make_app(uri: str):
    return create_app({
        "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "TESTING": False, "RATELIMIT_ENABLED": True,
        "KIOSK_THANKS_MS": 60000, "KIOSK_DEBOUNCE_MS": 0, "KIOSK_SYNC_MS": 500, "KIOSK_BURST_MAX": 100000,
        "WTF_CSRF_ENABLED": True,
    })


def setup_database(app) -> tuple[str, str]:
    """Schema at head, the quick questionnaire, a kiosk survey, two devices; returns
    (enrolment code for the browser, API token for the direct run)."""
    from surveyapp.cli import upgrade_to_head
    from surveyapp.kiosk import devices
    from surveyapp.models import Organisation, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    with app.app_context():
        upgrade_to_head()
        families = seed_standard()
        org = Organisation(code="BENCH", name="Xã Đo Hiệu Năng", sector="administrative")
        sp = ServicePoint(organisation=org, name="Quầy 1")
        db.session.add(Survey(questionnaire=families["quick-rating"], organisation=org, name="Đánh giá nhanh",
                              starts_on=date.today() - timedelta(days=30), status="open", channel_kiosk=True,
                              service_points=[sp]))
        _d1, browser_code = devices.create_device(sp, "Máy trình duyệt")
        _d2, api_code = devices.create_device(sp, "Máy API")
        db.session.commit()
        _device, api_token = devices.enrol(api_code)
        return browser_code, api_token


def count_kiosk(app, device_name: str) -> int:
    from surveyapp.models import KioskDevice, Response

    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Response).join(KioskDevice)
                              .where(KioskDevice.name == device_name))
        db.session.remove()
        return n


def serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


# evaluate() rather than wait_for_function(): the page's CSP forbids the eval the latter polls with.
WAIT_FOR_WORKER_JS = """async () => { await navigator.serviceWorker.ready;
  while (!navigator.serviceWorker.controller) { await new Promise((r) => setTimeout(r, 50)); } }"""

FILL_QUEUE_JS = """async ([n, start]) => {
  const db = await new Promise((ok, ko) => { const r = indexedDB.open("surveyapp-kiosk", 2); r.onsuccess = () => ok(r.result); r.onerror = ko; });
  await new Promise((ok, ko) => {
    const t = db.transaction("ratings", "readwrite"); const s = t.objectStore("ratings");
    for (let i = 0; i < n; i++) {
      const value = 1 + (i % 4);
      s.put({id: crypto.randomUUID(), value, created_at: new Date(start + i * 25000).toISOString(), language: "vi",
             pending: false, reason: value <= 2 && i % 3 === 0 ? "waiting_time" : undefined});
    }
    t.oncomplete = ok; t.onerror = ko;
  });
}"""

QUEUE_JS = """() => new Promise((ok, ko) => { const r = indexedDB.open("surveyapp-kiosk", 2);
  r.onsuccess = () => { const c = r.result.transaction("ratings").objectStore("ratings").count(); c.onsuccess = () => ok(c.result); };
  r.onerror = ko; })"""

# Time from the click event to the thank-you screen becoming visible, measured in the page.
ARM_JS = """() => {
  const thanks = document.getElementById("screen-thanks");
  let t0 = 0;
  window.__tapMs = null;
  document.addEventListener("click", (e) => { t0 = e.timeStamp; }, {capture: true, once: true});
  const obs = new MutationObserver(() => {
    if (!thanks.hidden) { obs.disconnect(); window.__tapMs = performance.now() - t0; }
  });
  obs.observe(thanks, {attributes: true, attributeFilter: ["hidden"]});
}"""
READ_JS = """async () => { while (window.__tapMs === null) { await new Promise((r) => setTimeout(r, 5)); }
  return window.__tapMs; }"""


def browser_bench(base: str, code: str, app, n_ratings: int, taps: int) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", has_touch=True)
        page = ctx.new_page()
        page.goto(base + "/kiosk/enroll")
        page.fill("#code", code)
        page.click("button[type=submit]")
        page.wait_for_url("**/kiosk/")
        page.wait_for_selector("#kiosk-root[data-ready='1']")
        page.evaluate(WAIT_FOR_WORKER_JS)

        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("#kiosk-root[data-ready='1']")
        times = []
        for i in range(taps):
            page.evaluate(ARM_JS)
            page.click(f".face-{4 - (i % 2)}")  # positive answers: straight to the thank-you screen
            times.append(page.evaluate(READ_JS))
            page.click("#screen-thanks")
            page.wait_for_selector("#screen-start:not([hidden])")
        times.sort()
        out["tap_ms_median"] = statistics.median(times)
        out["tap_ms_p95"] = times[int(0.95 * (len(times) - 1))]
        out["tap_ms_max"] = times[-1]

        start = (datetime.now(timezone.utc) - timedelta(seconds=25 * n_ratings + 3600)).timestamp() * 1000
        page.evaluate(FILL_QUEUE_JS, [n_ratings, start])
        queued = page.evaluate(QUEUE_JS)
        t0 = time.perf_counter()
        ctx.set_offline(False)
        while page.evaluate(QUEUE_JS):
            time.sleep(0.25)
        out["sync_s"] = time.perf_counter() - t0
        out["synced"] = queued
        out["stored_browser"] = count_kiosk(app, "Máy trình duyệt")
        browser.close()
    return out


def api_bench(base: str, token: str, n: int, batch: int = 500) -> dict:
    start = datetime.now(timezone.utc) - timedelta(seconds=25 * n + 3600)
    ratings = [{"id": str(uuid.uuid4()), "value": 1 + i % 4, "created_at": (start + timedelta(seconds=25 * i)).isoformat()}
               for i in range(n)]
    t0 = time.perf_counter()
    stored = 0
    for i in range(0, n, batch):
        req = urllib.request.Request(base + "/api/v1/kiosk/ratings", method="POST",
                                     data=json.dumps({"ratings": ratings[i:i + batch]}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req) as res:
            stored += json.load(res)["stored"]
    elapsed = time.perf_counter() - t0
    # The same batches again: all duplicates, nothing stored twice.
    t1 = time.perf_counter()
    for i in range(0, n, batch):
        req = urllib.request.Request(base + "/api/v1/kiosk/ratings", method="POST",
                                     data=json.dumps({"ratings": ratings[i:i + batch]}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req) as res:
            assert json.load(res)["stored"] == 0
    return {"api_s": elapsed, "api_stored": stored, "api_resend_s": time.perf_counter() - t1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=10000)
    parser.add_argument("--taps", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a temporary schema is used)")
    args = parser.parse_args()

    schema = None
    if args.database_url:
        schema = f"bench_kiosk_{os.getpid()}"
        engine = sa.create_engine(normalise_database_url(args.database_url))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = sa.make_url(normalise_database_url(args.database_url))
        uri = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        backend = "postgresql"
    else:
        tmp = tempfile.mkdtemp(prefix="bench-kiosk-")
        uri = f"sqlite:///{tmp}/bench.sqlite3"
        backend = "sqlite"
    try:
        app = make_app(uri)
        code, token = setup_database(app)
        server, base = serve(app)
        try:
            api = api_bench(base, token, args.ratings)
            web = browser_bench(base, code, app, args.ratings, args.taps)
        finally:
            server.shutdown()
    finally:
        if schema:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))

    print(f"backend: {backend} (werkzeug threaded server, 127.0.0.1)")
    print(f"tap -> thank-you, offline, {args.taps} taps: median {web['tap_ms_median']:.1f} ms, "
          f"p95 {web['tap_ms_p95']:.1f} ms, max {web['tap_ms_max']:.1f} ms (target < 100 ms)")
    print(f"sync of {web['synced']} queued ratings by the kiosk page: {web['sync_s']:.2f} s "
          f"({web['stored_browser']} stored in the database; target < 10 s)")
    print(f"API only, {args.ratings} ratings in batches of 500: {api['api_s']:.2f} s "
          f"({api['api_stored']} stored); same batches re-sent: {api['api_resend_s']:.2f} s, 0 stored")


if __name__ == "__main__":
    main()
