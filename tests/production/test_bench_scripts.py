"""The load benchmarks still run, in miniature: each is a bounded script that starts real
gunicorn servers, sends real traffic and counts rows afterwards, so a short run is also a test
that every acknowledged submission is stored exactly once. (The long runs that give the
figures in docs/PERFORMANCE.md stay on demand; these only keep the scripts from rotting, as
``load_mixed.py`` once did when a helper it imports changed.)"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_URL

REPO = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, timeout: int = 240) -> str:
    done = subprocess.run([sys.executable, str(REPO / "bench" / script), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_mixed_traffic_on_postgresql_and_redis_stores_every_acknowledged_submission_once(database_uris, redis_url):
    out = run_bench("load_mixed.py", "--db", "postgres", "--pg", PG_URL, "--redis", redis_url, "--duration", "3",
                    "--citizens", "2", "--kiosks", "1", "--officials", "1", "--seed-responses", "50")
    assert "errors: none" in out
    assert "every acknowledged submission is stored exactly once" in out
    acknowledged = re.search(r"acknowledged: (\d+) citizen \+ (\d+) kiosk = (\d+); new rows: (\d+); duplicates: (\d+)", out)
    citizens, kiosk, total, rows, duplicates = map(int, acknowledged.groups())
    assert citizens > 0 and kiosk > 0 and total == rows == citizens + kiosk and duplicates == 0


def test_wrk_submissions_against_the_bare_floor_count_every_row(redis_url):
    out = run_bench("load_submissions.py", "--db", "sqlite", "--redis", redis_url, "--rounds", "1", "--duration", "1",
                    "--warmup", "1", "--max-rate", "1500")
    assert re.search(r"ratio ours/bare \(acknowledged/s\): \d\.\d\d", out)
    for side in ("ours", "ours_redis"):
        counts = re.search(rf"^{side}: acknowledged (\d+) \(\+(\d+) warm-up\) -> rows (\d+), distinct keys (\d+), "
                           r"answers (\d+)$", out, re.M)
        acknowledged, warmup, rows, keys, answers = map(int, counts.groups())
        assert acknowledged > 0 and acknowledged + warmup == rows == keys == answers, counts.group(0)


def test_in_process_submission_bench_runs(redis_url):
    out = run_bench("wsgi_submission.py", "-n", "20", "--rounds", "1", "--redis", redis_url, "--stages")
    assert re.search(r"^ours_redis +CPU +\d+ µs/request", out, re.M) and "whole request" in out


def test_request_parts_bench_runs():
    out = run_bench("request_parts.py", "--rounds", "1", "-n", "200")
    assert re.search(r"^security headers on a 303 \(with the response\) +\d+\.\d+ +\d+\.\d+$", out, re.M)
