"""Benchmark: first load of the citizen survey page on an emulated slow 3G phone.

    .venv/bin/python bench/bench_survey_page.py [--runs 5]

Serves the app from a throw-away SQLite database (standard questionnaires, one counter with the
full SIPAS questionnaire, one desk with the quick rating), then opens each page in Debian's
headless Chromium (Playwright) with a fresh profile per run (cold cache), a 390x844 phone
viewport, and the network throttled through CDP ``Network.emulateNetworkConditions``.

Reports per page and network profile (medians over the runs): bytes over the wire (encoded,
headers included, from CDP ``Network.loadingFinished``), number of requests, hosts contacted,
first contentful paint, DOMContentLoaded (the deferred script has run: the page is usable) and
load. Exits non-zero if a page is over the 30 KB budget or contacts another host.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveyapp import create_app  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

BUDGET_BYTES = 30 * 1024
BUDGET_MS = 2000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# (name, round-trip latency ms, download bytes/s, upload bytes/s)
PROFILES = [
    # WebPageTest "3G Slow": 400 kbit/s, 400 ms RTT. The target of the 2 s budget.
    ("slow-3g (400 kbit/s, 400 ms RTT)", 400, 400_000 / 8, 400_000 / 8),
    # Chrome DevTools "Slow 3G" preset: 500 kbit/s x 0.8, 400 ms x 5 latency added to every request.
    ("devtools-slow-3g (400 kbit/s, 2000 ms)", 2000, 500_000 / 8 * 0.8, 500_000 / 8 * 0.8),
    # Chrome DevTools "Fast 3G" preset, for comparison.
    ("devtools-fast-3g (1.44 Mbit/s, 563 ms)", 562.5, 1_600_000 / 8 * 0.9, 750_000 / 8 * 0.9),
]


def build_site(tmp: Path):
    from surveyapp.cli import upgrade_to_head
    from surveyapp.models import Organisation, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}", "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": False, "PUBLIC_BASE_URL": None,
    })
    with app.app_context():
        upgrade_to_head()
        standard = seed_standard()
        org = Organisation(code="B", name="Trung tâm Phục vụ hành chính công tỉnh", sector="administrative")
        counter = ServicePoint(organisation=org, name="Quầy 1 – Tư pháp", code="benchquay1")
        desk = ServicePoint(organisation=org, name="Bộ phận Một cửa", code="benchdesk1")
        db.session.add_all([
            org, counter, desk,
            Survey(questionnaire=standard["sipas-admin"], organisation=org, name="SIPAS", starts_on=date(2020, 1, 1),
                   status="open", channel_qr=True, service_points=[counter]),
            Survey(questionnaire=standard["quick-rating"], organisation=org, name="Nhanh", starts_on=date(2020, 1, 1),
                   status="open", channel_qr=True, service_points=[desk]),
        ])
        db.session.commit()
    return app, {"full questionnaire (SIPAS, 22 questions)": "/s/benchquay1", "quick rating": "/s/benchdesk1"}


def measure(browser, url: str, profile) -> dict:
    _name, latency, down, up = profile
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="vi-VN")
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency, "downloadThroughput": down, "uploadThroughput": up})
    requests: dict[str, str] = {}
    encoded: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent", lambda e: requests.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: encoded.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(100)  # let the last loadingFinished events arrive
    timing = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return {fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
    }""")
    ctx.close()
    hosts = sorted({urlsplit(u).netloc for u in requests.values() if not u.startswith("data:")})
    return {"bytes": sum(encoded.values()), "requests": len([u for u in requests.values() if not u.startswith("data:")]),
            "hosts": hosts, **timing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        app, pages = build_site(Path(tmp))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        origin = f"127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                                                   "--disable-background-networking", "--disable-component-update"])
                print(f"Chromium {browser.version}, {args.runs} cold runs each, medians\n")
                print(f"{'page':42} {'network':40} {'bytes':>7} {'req':>4} {'FCP ms':>7} {'DCL ms':>7} {'load ms':>8}")
                for label, path in pages.items():
                    for profile in PROFILES:
                        runs = [measure(browser, f"http://{origin}{path}", profile) for _ in range(args.runs)]
                        med = {k: statistics.median(r[k] for r in runs) for k in ("bytes", "requests", "fcp", "dcl", "load")}
                        hosts = sorted({h for r in runs for h in r["hosts"]})
                        print(f"{label:42} {profile[0]:40} {med['bytes']:>7.0f} {med['requests']:>4.0f} "
                              f"{med['fcp']:>7.0f} {med['dcl']:>7.0f} {med['load']:>8.0f}")
                        if med["bytes"] > BUDGET_BYTES or hosts != [origin]:
                            ok = False
                            print(f"  OVER BUDGET or third-party host: {med['bytes']:.0f} bytes, hosts {hosts}")
                        if profile is PROFILES[0] and med["dcl"] > BUDGET_MS:
                            ok = False
                            print(f"  SLOWER than {BUDGET_MS} ms on {profile[0]}")
                browser.close()
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()
    print(f"\nbudget: {BUDGET_BYTES} bytes over the wire, usable (DOMContentLoaded) within {BUDGET_MS} ms on slow 3G, "
          f"no third-party host: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
