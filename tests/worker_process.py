"""A real ``flask worker`` process on the test database, for tests of what two workers share."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def start_worker(app, **settings: str) -> subprocess.Popen:
    """Start ``flask worker`` on ``app``'s database and mail server; ``settings`` are extra
    ``SURVEYAPP_<NAME>`` values (the outbox polled every second by default)."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SURVEYAPP_JOBS_OUTBOX_SECONDS": "1",
        "SURVEYAPP_MAIL_SERVER": "127.0.0.1",
        "SURVEYAPP_MAIL_PORT": str(app.config["MAIL_PORT"]),
    })
    env.update({f"SURVEYAPP_{name}": value for name, value in settings.items()})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "surveyapp", "worker"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop it as a deployment would (SIGTERM), killing it only if it does not stop in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
