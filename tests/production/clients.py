"""HTTP clients that behave like the real ones: a citizen's browser and a kiosk tablet.

Both keep what they sent until the server acknowledged it and retry with the same
idempotency key otherwise, exactly as the page (the key is in the form) and the kiosk's
offline queue do; the tests then check that what was acknowledged is stored, and stored
once.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import requests

TIMEOUT = 10


class _Inputs(HTMLParser):
    """The hidden fields (and CSRF token) of the survey form."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


@dataclass
class CitizenForm:
    """One filled-in form: what a browser would re-post when the citizen presses "send" again."""

    url: str  # path, e.g. /s/<code>
    fields: dict[str, str]
    acknowledged: bool = False
    attempts: int = 0

    @property
    def key(self) -> str:
        return self.fields["key"]


def open_form(session: requests.Session, base: str, code: str, answers: dict[str, str] | None = None) -> CitizenForm:
    """GET the survey page and fill it in (quick rating by default)."""
    r = session.get(f"{base}/s/{code}", timeout=TIMEOUT)
    r.raise_for_status()
    fields = hidden_fields(r.text)
    assert "key" in fields and "started" in fields, "survey form without its hidden fields"
    fields.update({f"q_{k}": v for k, v in (answers or {"rating": random.choice(["v1", "v2", "v3", "v4"])}).items()})
    return CitizenForm(url=f"/s/{code}", fields=fields)


def post_form(session: requests.Session, base: str, form: CitizenForm) -> requests.Response | None:
    """POST once; None when the connection failed (no answer: the citizen will press again)."""
    form.attempts += 1
    try:
        r = session.post(base + form.url, data=form.fields, allow_redirects=False, timeout=TIMEOUT)
    except requests.RequestException:
        return None
    if r.status_code == 303:
        form.acknowledged = True
    return r


@dataclass
class Kiosk:
    """A tablet with an offline queue of ratings; a batch leaves the queue only when acknowledged."""

    token: str
    queue: list[dict] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rate(self, when: datetime | None = None, value: int | None = None) -> dict:
        value = value or random.choice([1, 2, 3, 4])
        item = {"id": str(uuid.uuid4()), "value": value,
                "created_at": (when or datetime.now(timezone.utc)).isoformat(), "language": "vi"}
        if value <= 2 and random.random() < 0.5:
            item["reason"] = random.choice(["waiting_time", "attitude", "procedure", "facilities", "other"])
        with self.lock:
            self.queue.append(item)
        return item

    def queue_offline_day(self, n: int, day_end: datetime | None = None) -> None:
        """``n`` ratings spread evenly over the 24 hours before ``day_end`` (no burst flags)."""
        end = day_end or datetime.now(timezone.utc) - timedelta(minutes=5)
        step = timedelta(days=1) / n
        for i in range(n):
            self.rate(when=end - timedelta(days=1) + step * i)

    def sync_once(self, base: str, batch_size: int = 200, session: requests.Session | None = None) -> requests.Response | None:
        """Send the oldest ``batch_size`` queued ratings; drop them from the queue only on 200."""
        with self.lock:
            batch = self.queue[:batch_size]
        if not batch:
            return None
        try:
            r = (session or requests).post(
                base + "/api/v1/kiosk/ratings", json={"ratings": batch},
                headers={"Authorization": f"Bearer {self.token}"}, timeout=TIMEOUT * 3,
            )
        except requests.RequestException:
            return None
        if r.status_code == 200:
            body = r.json()
            done = {res["id"] for res in body["results"] if res["status"] in ("stored", "duplicate")}
            assert done == {item["id"] for item in batch}, body
            with self.lock:
                self.acknowledged |= done
                self.queue = [item for item in self.queue if item["id"] not in done]
        return r

    def sync_all(self, base: str, batch_size: int = 200, deadline: float = 60, pause: float = 0.05) -> None:
        stop = time.monotonic() + deadline
        with requests.Session() as session:
            while self.queue:
                if time.monotonic() > stop:
                    raise AssertionError(f"kiosk queue not drained: {len(self.queue)} left")
                r = self.sync_once(base, batch_size, session)
                if r is None or r.status_code != 200:
                    retry = float(r.headers.get("Retry-After", pause)) if r is not None else pause
                    time.sleep(min(retry, 1.0))


def enrol_kiosk(database_url: str, base: str, service_point_id: int, name: str = "Máy tính bảng 1") -> Kiosk:
    """Create a device the way an official does, then enrol it over HTTP like the tablet."""
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.kiosk.devices import create_device
    from surveyapp.models import ServicePoint

    from tests.conftest import base_config

    app = create_app(base_config(database_url))
    with app.app_context():
        _device, code = create_device(db.session.get(ServicePoint, service_point_id), name)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    r = requests.post(base + "/api/v1/kiosk/enroll", json={"code": code}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return Kiosk(token=r.json()["token"])
