"""The instance folder holds the secret key and, by default, the SQLite database (password
hashes, citizens' contacts): owner only. Workers starting together all get the same, whole key."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

import surveyapp.config as config
from surveyapp import _configure_engine

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def usual_umask():
    """The umask most servers run with (files 0644, folders 0755 unless the app says otherwise)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def no_environment(monkeypatch):
    for name in ("SECRET_KEY", "SURVEYAPP_SECRET_KEY", "DATABASE_URL", "SURVEYAPP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_instance_folder_and_sqlite_files_are_owner_only(tmp_path, usual_umask, no_environment):
    instance = tmp_path / "instance"
    app = Flask("x", instance_path=str(instance))
    config.load(app, None)
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    _configure_engine(engine)  # WAL, as the app runs it: the -wal and -shm files appear
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE contact (id INTEGER PRIMARY KEY, phone TEXT)")
        conn.exec_driver_sql("INSERT INTO contact (phone) VALUES ('0912 345 678')")
    with engine.connect() as conn:  # a reader keeps the WAL files in place
        assert conn.exec_driver_sql("SELECT count(*) FROM contact").scalar() == 1
        files = sorted(p.name for p in instance.iterdir())
        assert {"surveyapp.sqlite3", "surveyapp.sqlite3-wal", "surveyapp.sqlite3-shm", "secret_key"} <= set(files)
        assert mode(instance) == 0o700
        for name in files:
            assert mode(instance / name) & 0o077 == 0, (name, oct(mode(instance / name)))
    engine.dispose()


def test_a_configured_sqlite_file_is_created_owner_only(tmp_path, usual_umask, no_environment):
    (tmp_path / "data").mkdir()
    app = Flask("x", instance_path=str(tmp_path / "instance"))
    config.load(app, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'data' / 'survey.db'}", "SECRET_KEY": "k"})
    assert mode(tmp_path / "data" / "survey.db") == 0o600
    # A folder that does not exist is not made up: the database stays unreachable, as configured.
    config.load(app, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'typo' / 'survey.db'}", "SECRET_KEY": "k"})
    assert not (tmp_path / "typo").exists()


# config.py needs nothing of the package: the workers import it alone (fast), as the module it is.
RACER = """
import sys
sys.path.insert(0, sys.argv[2])
import config

slow_open = config.os.fdopen


class SlowFile:
    '''A loaded disk: the key reaches the file one character at a time.'''
    def __init__(self, fh):
        self.fh = fh
    def write(self, text):
        for ch in text:
            self.fh.write(ch)
            self.fh.flush()
            config.os.fsync(self.fh.fileno())
        return len(text)
    def __getattr__(self, name):
        return getattr(self.fh, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.fh.__exit__(*exc)


config.os.fdopen = lambda *a, **kw: SlowFile(slow_open(*a, **kw))
print("ready", flush=True)
sys.stdin.readline()  # every worker starts at the same moment
print(config.instance_secret(sys.argv[1]), flush=True)
"""


@pytest.mark.parametrize("round_", range(3))
def test_workers_starting_together_all_read_the_same_whole_key(tmp_path, round_):
    instance = tmp_path / "instance"
    workers = [subprocess.Popen([sys.executable, "-c", RACER, str(instance), str(REPO / "surveyapp")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(6)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        keys = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            keys.append(out.strip())
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert all(len(k) == 64 for k in keys), keys
    assert len(set(keys)) == 1, keys
    assert (instance / "secret_key").read_text() == keys[0]
    assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary file left behind
    assert mode(instance / "secret_key") == 0o600 and mode(instance) == 0o700
