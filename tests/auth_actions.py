"""Signing in and out in tests, in one place: the ``auth`` fixture of ``tests/conftest.py`` is an
``AuthActions``, as in Flask's tutorial (flaskr). Accounts made by tests get ``PASSWORD``; the demo
province's accounts have ``surveyapp.seed.DEMO_PASSWORD``."""
from __future__ import annotations

PASSWORD = "mat-khau-123"


def username_of(user) -> str:
    """A ``User`` or a plain username."""
    return getattr(user, "username", user)


class AuthActions:
    """Signs in and out through the sign-in form, as a person would."""

    def __init__(self, app, client):
        self._app = app
        self._client = client

    def login(self, user, password: str = PASSWORD, *, client=None, data: dict | None = None, **kwargs):
        """Post the sign-in form as ``user`` (a ``User`` or a username) with ``client`` (the test's
        ``client`` by default); ``data`` adds form fields (a CSRF token), ``kwargs`` go to
        ``client.post`` (headers, environ_base). Returns the response: 302 when signed in."""
        form = {"username": username_of(user), "password": password, **(data or {})}
        return (client or self._client).post("/login", data=form, **kwargs)

    def logout(self, *, client=None):
        """Sign out (a POST: a link cannot sign anybody out)."""
        return (client or self._client).post("/logout")

    def client_for(self, user, password: str = PASSWORD, *, app=None):
        """A new test client of ``app`` (the test's ``app`` by default), signed in as ``user``."""
        client = (app or self._app).test_client()
        response = self.login(user, password, client=client)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
