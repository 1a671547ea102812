"""Production-shaped fixtures: real gunicorn app servers, a shared PostgreSQL schema and
Redis, and a private throwaway PostgreSQL cluster that a test may stop and start.

Every server is a subprocess on a free loopback port, started with the same command
line as ``make serve-prod`` and configured only through environment variables, as an
operator would. Servers are stopped (and, if they do not stop, killed with their whole
process group) when the test ends, whatever happened in it.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.extensions import db

from tests.conftest import base_config, create_pg_schema, drop_pg_schema, migrate_to_head

REPO = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers), read from /proc."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


class AppServer:
    """One app server: a gunicorn master and its workers on 127.0.0.1:<port>.

    ``--preload`` as in docs/DEPLOY.md: the app is built once in the master and workers are
    forked from it, so a worker killed under load is replaced in milliseconds, not the
    seconds it takes to import NumPy and SciPy again."""

    def __init__(self, env: dict[str, str], workers: int = 2, log_dir: Path | None = None, name: str = "app"):
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = (log_dir or Path("/tmp")) / f"gunicorn-{name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 60) -> AppServer:
        self.launch()
        self.wait_ready(ready_timeout)
        return self

    def launch(self) -> None:
        """Start the processes without waiting (servers of a cluster boot in parallel)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEYAPP_", "FLASK_"))}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env.update(self.env)
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            # The production settings module (preload, gc.freeze before fork), as make serve-prod.
            [GUNICORN, "-c", "python:surveyapp.gunicorn_conf", "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "surveyapp:create_app()"],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            return requests.get(self.url + "/readyz", timeout=5).status_code == 200

        try:
            wait_until(ready, timeout, what=f"{self.name} /readyz")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log ---\n{self.log_tail()}") from None
        # Every worker has booted when the master has as many children as configured.
        wait_until(lambda: len(self.worker_pids()) >= self.workers, timeout, what="workers")

    def worker_pids(self) -> list[int]:
        return child_pids(self.proc.pid) if self.proc else []

    def kill9(self) -> None:
        """The whole server dies at once: master and workers, no cleanup."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._close_log()
            return
        try:
            # SIGINT: gunicorn's quick shutdown. Tests check the database after the load has
            # ended, so nothing is in flight any more and there is nothing to wait for.
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        except ProcessLookupError:
            pass
        self._close_log()

    def _close_log(self) -> None:
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@pytest.fixture
def app_servers(tmp_path):
    """Factory ``app_servers(env, workers=2, name=..., count=1)``: one ready server, or a list of
    ``count`` servers booted in parallel; every server is stopped at the end."""
    servers: list[AppServer] = []

    def start(env: dict[str, str], workers: int = 2, name: str = "app", count: int = 1):
        group = [AppServer(env, workers=workers, log_dir=tmp_path, name=f"{name}{i}" if count > 1 else name)
                 for i in range(count)]
        servers.extend(group)
        for server in group:
            server.launch()
        for server in group:
            server.wait_ready()
        return group if count > 1 else group[0]

    yield start
    for server in servers:
        server.stop()


def server_env(database_url: str, redis_url: str | None = None, **settings) -> dict[str, str]:
    """What an operator sets: the database, Redis, one secret shared by every server (rate-limit
    keys and sessions must agree across servers), and SURVEYAPP_<NAME> settings."""
    env = {"DATABASE_URL": database_url, "SECRET_KEY": settings.pop("secret_key", "prod-test-secret"),
           "SURVEYAPP_RATELIMIT_ENABLED": "false"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    for name, value in settings.items():
        env[f"SURVEYAPP_{name}"] = value if isinstance(value, str) else str(value).lower()
    return env


@pytest.fixture
def pg_database():
    """A migrated, private schema on the shared PostgreSQL; yields its URL, dropped afterwards."""
    schema, url = create_pg_schema("prod")
    try:
        migrate_to_head(url)
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    migrate_to_head(url)
    return url


def seed_survey(url: str, *, family: str = "quick-rating", kiosk: bool = True, points: int = 2) -> dict:
    """Standard questionnaires, one organisation, ``points`` service points and one open survey
    on them; returns plain ids and codes (no ORM objects leave the app context)."""
    from surveyapp.models import Organisation, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    app = create_app(base_config(url))
    with app.app_context():
        families = seed_standard()
        org = Organisation(code="PROD-" + secrets.token_hex(3), name="Xã Thử Tải", sector="administrative")
        sps = [ServicePoint(organisation=org, name=f"Quầy {i + 1}") for i in range(points)]
        survey = Survey(questionnaire=families[family], organisation=org, name="Khảo sát tải",
                        starts_on=date(2026, 1, 1), status="open", channel_qr=True, channel_kiosk=kiosk,
                        service_points=sps)
        db.session.add_all([org, *sps, survey])
        db.session.commit()
        out = {"survey_id": survey.id, "service_points": [(sp.id, sp.code) for sp in sps],
               "questionnaire_id": families[family].id}
        db.session.remove()
        db.engine.dispose()
    return out


def count_rows(url: str, table: str, where: str = "", **params) -> int:
    from surveyapp.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            source = table if table.startswith("(") else f'"{table}"'
            return conn.scalar(sa.text(f"SELECT count(*) FROM {source} {where}"), params)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# A private PostgreSQL cluster, for the test that restarts the database under load. Never the
# machine's shared server: other test runs use it at the same time.


class PrivateCluster:
    def __init__(self, root: Path):
        if not PG_BIN:
            pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql", pytrace=False)
        self.bin = PG_BIN[-1]
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=60 -c shared_buffers=32MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "pg.log"),
                  "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def private_pg():
    """A throwaway PostgreSQL cluster on a free port, migrated to head; stopped afterwards."""
    # Directly under /tmp (pytest's own tmp dirs are closed to the postgres user); short,
    # because the Unix socket path inside it has a length limit.
    cluster = PrivateCluster(Path(tempfile.mkdtemp(prefix="sa-pg-")))
    try:
        cluster.init()
        cluster.start()
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"could not start a private PostgreSQL cluster: {exc} {detail.decode(errors='replace')}")
    try:
        migrate_to_head(cluster.url)
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(cluster.root, ignore_errors=True)
