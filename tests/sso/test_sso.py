"""Single sign-on against a real OpenID provider: the npm package oidc-provider, run with Node.js
on a loopback port, its development sign-in pages driven over HTTP."""
from __future__ import annotations

import selectors
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests
import sqlalchemy as sa

from auth_actions import PASSWORD
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Organisation, User

HERE = Path(__file__).resolve().parent
PUBLIC = "https://khaosat.example.gov.vn"  # PUBLIC_BASE_URL of the test config
CALLBACK = PUBLIC + "/login/sso/callback"
CLIENT_ID, CLIENT_SECRET = "surveyapp", "bi-mat-cua-ung-dung"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    """The provider's issuer URL while it runs (started once for the module, killed after)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js not found: run `make system-deps node-deps`")
    if not (HERE.parent.parent / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider missing: run `make node-deps`")
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([node, str(HERE / "provider.mjs"), str(port), CLIENT_ID, CLIENT_SECRET, CALLBACK],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=30):
            pytest.fail(f"the OpenID provider did not start: {log.read_text()}")
        line = proc.stdout.readline()
        if not line.startswith("ready "):
            pytest.fail(f"the OpenID provider did not start: {line!r} {log.read_text()}")
        yield line.split()[1]
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


@pytest.fixture
def sso_app(make_app, issuer):
    app = make_app(OIDC_ISSUER=issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                   OIDC_PROVIDER_NAME="VNeID Tỉnh")
    return app


@pytest.fixture
def people(sso_app):
    """An installation administrator, a manager of a commune and a viewer known by email only:
    their ids by role."""
    from werkzeug.security import generate_password_hash

    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with sso_app.app_context():
        org = Organisation(code="XA-AN", name="xã An Bình", sector="administrative")
        db.session.add(org)
        db.session.flush()
        users = {
            "admin": User(username="quantri", role="admin", password_hash=cheap),
            "manager": User(username="canbo1", role="manager", organisation_id=org.id, password_hash=cheap),
            "viewer": User(username="nguyenvana", email="Hoa@so.example.gov.vn", role="viewer",
                           organisation_id=org.id, password_hash=cheap),
        }
        db.session.add_all(users.values())
        db.session.commit()
        return {role: user.id for role, user in users.items()}


def provider_sign_in(authorize_url: str, login: str) -> str:
    """Sign in at the provider as ``login`` and consent; the URL it sends the browser back to."""
    browser = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        r = browser.request(method, url, data=data, allow_redirects=False, timeout=15)
        if r.is_redirect:
            url = urljoin(url, r.headers["Location"])
            if url.startswith(CALLBACK):
                return url
            method, data = "GET", None
            continue
        assert r.status_code == 200, (r.status_code, r.text[:500])
        assert "/interaction/" in url, url
        method = "POST"
        data = ({"prompt": "login", "login": login, "password": "x"} if 'name="login"' in r.text
                else {"prompt": "consent"})
    raise AssertionError("the provider never sent the browser back")


def start(client, next_url: str | None = None) -> str:
    r = client.get("/login/sso" + (f"?next={next_url}" if next_url else ""))
    assert r.status_code == 302
    assert r.location.startswith(client.application.config["OIDC_ISSUER"])
    query = dict(parse_qsl(urlsplit(r.location).query))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["state"] and query["nonce"]
    return r.location


def callback(client, returned: str):
    parts = urlsplit(returned)
    return client.get(f"{parts.path}?{parts.query}")


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def sso_sign_in(client, login: str, next_url: str | None = None):
    return callback(client, provider_sign_in(start(client, next_url), login))


def test_existing_user_signs_in_and_lands_in_the_workspace(sso_app, people):
    client = sso_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập bằng VNeID Tỉnh" in page

    r = sso_sign_in(client, "canbo1")
    assert r.status_code == 302
    assert r.location.endswith("/admin/")
    dashboard = client.get(r.location)
    assert dashboard.status_code == 200
    with sso_app.app_context():
        manager = db.session.get(User, people["manager"])
        assert (manager.oidc_issuer, manager.oidc_subject) == (sso_app.config["OIDC_ISSUER"], "canbo1")
        assert manager.last_login_at is not None
        assert manager.role == "manager"  # never changed by a sign-in

        # Later sign-ins match by subject, whatever the username has become.
        manager.username = "canbo-moi"
        db.session.commit()
    other = sso_app.test_client()
    r = sso_sign_in(other, "canbo1", next_url="/admin/")
    assert r.status_code == 302 and r.location.endswith("/admin/")
    assert signed_in(other)


def test_first_sign_in_maps_by_verified_email(sso_app, people):
    client = sso_app.test_client()
    r = sso_sign_in(client, "hoa")  # preferred_username "hoa" matches nobody; the email does
    assert r.status_code == 302
    assert signed_in(client)
    with sso_app.app_context():
        assert db.session.get(User, people["viewer"]).oidc_subject == "hoa"


def test_unknown_user_is_refused_and_audited(sso_app, people, caplog):
    client = sso_app.test_client()
    r = sso_sign_in(client, "nguoila")
    assert r.status_code == 403
    page = r.get_data(as_text=True)
    assert "chưa gắn với tài khoản nào" in page
    assert not signed_in(client)
    with sso_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3  # nothing created
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sso.refused"))
        assert event is not None and event.user_id is None
        assert "nguoila" not in str(event.after)
    assert "nguoila" not in caplog.text


def test_a_tampered_state_is_refused(sso_app, people):
    client = sso_app.test_client()
    returned = provider_sign_in(start(client), "canbo1")
    parts = urlsplit(returned)
    query = dict(parse_qsl(parts.query))
    query["state"] = query["state"][:-2] + "xx"
    r = client.get(f"{parts.path}?{urlencode(query)}")
    assert r.status_code == 400
    assert "Phiên đăng nhập không hợp lệ" in r.get_data(as_text=True)
    assert not signed_in(client)
    with sso_app.app_context():
        assert db.session.get(User, people["manager"]).oidc_subject is None


def test_a_tampered_nonce_is_refused(sso_app, people):
    client = sso_app.test_client()
    returned = provider_sign_in(start(client), "canbo1")
    with client.session_transaction() as session:
        key = next(k for k in session if k.startswith("_state_oidc_"))
        kept = dict(session[key])
        kept["data"] = dict(kept["data"], nonce="forged-nonce")
        session[key] = kept
    r = callback(client, returned)
    assert r.status_code == 400
    assert "dữ liệu không hợp lệ" in r.get_data(as_text=True)
    assert not signed_in(client)
    with sso_app.app_context():
        assert db.session.get(User, people["manager"]).oidc_subject is None


def test_with_sso_on_only_the_installation_admin_signs_in_with_a_password(sso_app, people, auth):
    client = sso_app.test_client()
    r = auth.login("canbo1", client=client)
    assert r.status_code == 200
    assert "Tài khoản này đăng nhập bằng VNeID Tỉnh" in r.get_data(as_text=True)
    assert not signed_in(client)

    admin = sso_app.test_client()
    assert auth.login("quantri", client=admin).status_code == 302
    assert signed_in(admin)


def test_local_signin_all_lets_everyone_use_a_password(make_app, issuer, people, auth):
    app = make_app(OIDC_ISSUER=issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                   OIDC_LOCAL_SIGNIN="all")
    client = app.test_client()
    assert auth.login("canbo1", client=client).status_code == 302
    assert signed_in(client)


def test_without_an_issuer_there_is_no_sso(make_app, people, auth):
    app = make_app()
    client = app.test_client()
    assert "Đăng nhập bằng" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/sso").status_code == 404
    assert auth.login("canbo1", client=client).status_code == 302


def test_sign_out_ends_the_session(sso_app, people):
    client = sso_app.test_client()
    assert sso_sign_in(client, "canbo1").status_code == 302
    assert signed_in(client)
    assert client.post("/logout").status_code == 302
    r = client.get("/admin/")
    assert r.status_code == 302 and "/login" in r.location


def test_each_app_has_its_own_oauth_registry(make_app, issuer):
    a = make_app(OIDC_ISSUER=issuer, OIDC_CLIENT_ID="a", OIDC_CLIENT_SECRET="s")
    b = make_app()
    registry = "authlib.integrations.flask_client"
    assert a.extensions[registry] is not b.extensions[registry]
    with a.app_context():
        assert a.extensions[registry].create_client("oidc").client_id == "a"
    with b.app_context():
        assert b.extensions[registry].create_client("oidc") is None
