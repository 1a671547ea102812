"""Small per-request pieces of the survey POST, Flask's default against surveyapp's, in process.

Each line times one piece both ways in the same process (best of several repeats, then the
median of those bests over ``--rounds``), microseconds per call:

- the security headers on a 303: five ``Headers.setdefault`` calls against the one-pass hook
  registered by ``surveyapp.security``.

(The session-serializer cache, the ``ensure_sync`` cache and the thank-you URL cache timed
here before saved a few microseconds each and were removed; docs/PERFORMANCE.md.)

    .venv/bin/python bench/request_parts.py
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from flask import Response  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp.security import CSP  # noqa: E402


def redirect_response() -> Response:
    response = Response("", 303)
    response.headers["Location"] = "/s/abcdef/cam-on"
    response.headers["Vary"] = "Cookie"
    return response


def setdefault_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("-n", type=int, default=20_000, help="calls per timing")
    args = parser.parse_args()

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": secrets.token_hex(32)})
    hook = next(f for f in app.after_request_funcs[None] if getattr(f, "__name__", "") == "security_headers")

    pairs = {
        "security headers on a 303 (with the response)": (lambda: setdefault_headers(redirect_response()),
                                                           lambda: hook(redirect_response())),
    }
    results = {name: ([], []) for name in pairs}
    with app.test_request_context("/s/abcdef", method="POST"):
        for _ in range(args.rounds):
            for name, (before, after) in pairs.items():
                for out, f in zip(results[name], (before, after)):
                    out.append(min(timeit.repeat(f, number=args.n, repeat=3)) / args.n * 1e6)
    print(f"{'':48} {'Flask':>8} {'surveyapp':>10}  µs per call, median of {args.rounds} rounds")
    for name, (before, after) in results.items():
        print(f"{name:48} {statistics.median(before):8.2f} {statistics.median(after):10.2f}")


if __name__ == "__main__":
    main()
