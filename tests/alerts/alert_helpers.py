"""Helpers for the alert tests: real servers on loopback and stored ratings."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


from auth_actions import PASSWORD
from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Response, ServicePoint, Survey, User, utcnow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy (returns it) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)


class SmtpServer:
    """aiosmtpd on a free loopback port, keeping every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.raw.append(envelope.content)
                outer.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def bodies(self) -> list[str]:
        """Every text and HTML part of every message, decoded."""
        out = []
        for msg in self.messages:
            out.append(str(msg["Subject"]))
            for part in msg.walk():
                if part.get_content_maintype() == "text":
                    out.append(part.get_content())
        return out

    def stop(self):
        self.controller.stop()


class HttpReceiver:
    """A webhook receiver: records each POST; answers the scripted statuses in turn, then 200.
    ``hold`` (an Event) makes the next request wait until it is set."""

    def __init__(self):
        self.calls: list[dict] = []
        self.script: list[int] = []
        self.hold: threading.Event | None = None
        self.delay = 0.0  # server-side latency per request, so that concurrent senders overlap
        self.in_flight = self.max_in_flight = 0
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    status = outer.script.pop(0) if outer.script else 200
                    hold, outer.hold = outer.hold, None
                    outer.calls.append({"headers": dict(self.headers), "body": body, "status": status})
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                outer.arrived.set()
                if hold is not None:
                    hold.wait(60)
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.lock:
                    outer.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(c["body"]) for c in self.calls]

    def stop(self):
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Province:
    province: Organisation
    commune: Organisation
    other: Organisation
    point: ServicePoint
    other_point: ServicePoint
    survey: Survey
    full_survey: Survey
    manager: User
    province_manager: User
    viewer: User
    outsider: User


def make_user(username: str, role: str, org: Organisation | None, email: str | None) -> User:
    user = User(username=username, role=role, organisation=org, email=email)
    user.set_password(PASSWORD)
    db.session.add(user)
    return user


def make_province(standard) -> Province:
    """A province with two communes, one counter each, the quick rating and SIPAS deployed."""
    province = Organisation(code="P", name="UBND tỉnh Thử", sector="administrative")
    commune = Organisation(code="P-C", name="UBND xã Một", sector="administrative", parent=province)
    other = Organisation(code="P-D", name="UBND xã Hai", sector="administrative", parent=province)
    point = ServicePoint(organisation=commune, name="Quầy Tư pháp")
    other_point = ServicePoint(organisation=other, name="Quầy Đất đai")
    db.session.add_all([province, commune, other, point, other_point])
    survey = Survey(questionnaire=standard["quick-rating"], organisation=province, name="Đánh giá nhanh",
                    starts_on=date(2020, 1, 1), channel_qr=True, channel_kiosk=True, status="open",
                    service_points=[point, other_point])
    full = Survey(questionnaire=standard["sipas-admin"], organisation=province, name="SIPAS",
                  starts_on=date(2020, 1, 1), channel_qr=True, status="open", service_points=[point, other_point])
    db.session.add_all([survey, full])
    manager = make_user("xamot", "manager", commune, "xamot@example.gov.vn")
    province_manager = make_user("tinh", "manager", province, "tinh@example.gov.vn")
    viewer = make_user("xem", "viewer", commune, "xem@example.gov.vn")
    outsider = make_user("xahai", "manager", other, "xahai@example.gov.vn")
    db.session.commit()
    return Province(province, commune, other, point, other_point, survey, full, manager, province_manager, viewer,
                    outsider)


def rate(survey: Survey, sp: ServicePoint, value: int, at: datetime | None = None, *, contact: str | None = None,
         comment: str | None = None) -> Response:
    """Store a quick rating (and a comment on the full survey's comment question when given)."""
    at = at or utcnow()
    q = next(q for q in survey.questionnaire.questions if q.code == "rating")
    opt = next(o for o in q.options if o.value == value)
    r = Response(survey_id=survey.id, service_point_id=sp.id, channel="kiosk" if contact is None else "qr",
                 submitted_at=at, idempotency_key=uuid.uuid4().hex, contact=contact, contact_consent=contact is not None)
    r.answers.append(Answer(question_id=q.id, option_id=opt.id, value=value, satisfied=int(value >= 3),
                            service_point_id=sp.id, submitted_at=at))
    db.session.add(r)
    db.session.commit()
    return r


def comment(survey: Survey, sp: ServicePoint, text: str, at: datetime | None = None, *, overall: int = 2,
            contact: str | None = None) -> Response:
    """Store a full-survey response with its overall rating and a comment."""
    at = at or utcnow()
    qs = {q.code: q for q in survey.questionnaire.questions}
    r = Response(survey_id=survey.id, service_point_id=sp.id, channel="qr", submitted_at=at,
                 idempotency_key=uuid.uuid4().hex, contact=contact, contact_consent=contact is not None)
    opt = next(o for o in qs["overall"].options if o.value == overall)
    r.answers.append(Answer(question_id=qs["overall"].id, option_id=opt.id, value=overall, service_point_id=sp.id,
                            submitted_at=at))
    r.answers.append(Answer(question_id=qs["comment"].id, text=text, service_point_id=sp.id, submitted_at=at))
    db.session.add(r)
    db.session.commit()
    return r


def minutes_ago(n: float) -> datetime:
    return utcnow() - timedelta(minutes=n)
