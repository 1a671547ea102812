"""Citizens' requests: find the responses carrying a contact, erase the contact and the comments
(ratings kept), audited with a keyed hash, never the contact; the same from the command line."""
from __future__ import annotations

import sqlalchemy as sa

from surveyapp.contacts import erase_contact, find_by_contact, normalise_contact
from surveyapp.extensions import db
from surveyapp.models import Answer, AuditEvent, Question, Response
from surveyapp.seed import seed_demo


def with_contacts(contact_a: str, contact_b: str):
    responses = db.session.scalars(sa.select(Response).join(Answer).join(Question).where(
        Question.type == "text", Answer.text.is_not(None)).order_by(Response.id).limit(3)).all()
    for r, c in zip(responses, (contact_a, contact_b, "khac@example.vn")):
        r.contact, r.contact_consent = c, True
    db.session.commit()
    return [r.id for r in responses]


def test_normalisation():
    assert normalise_contact(" An@Example.VN ") == "an@example.vn"
    assert normalise_contact("+84 912 345 678") == normalise_contact("0912.345.678") == "0912345678"
    assert normalise_contact("xin chào") is None


def test_find_and_erase_keeps_the_ratings(app_context, demo):
    a, b, other = with_contacts("0912 345 678", "+84912345678")
    assert [r.id for r in find_by_contact("0912345678")] == [b, a] or \
        sorted(r.id for r in find_by_contact("0912345678")) == sorted([a, b])
    ratings = {rid: sorted((x.question_id, x.option_id, x.value, x.satisfied) for x in db.session.get(Response, rid).answers
                           if x.text is None) for rid in (a, b)}
    assert erase_contact("(+84) 912-345-678", None) == 2
    db.session.expire_all()
    for rid in (a, b):
        r = db.session.get(Response, rid)
        assert r.contact is None
        assert all(x.text is None for x in r.answers)
        assert sorted((x.question_id, x.option_id, x.value, x.satisfied) for x in r.answers) == ratings[rid]
    assert db.session.get(Response, other).contact == "khac@example.vn"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "privacy.erase")).one()
    assert event.after["responses"] and "912" not in str(event.after) and "912" not in (event.object_id or "")
    assert find_by_contact("0912345678") == []


def test_cli_find_and_erase(app, runner):
    with app.app_context():
        seed_demo(seed=7, n_responses=600)
        with_contacts("an@example.vn", "AN@example.vn")
    found = runner.invoke(args=["privacy", "find", "--contact", "an@example.vn"])
    assert found.exit_code == 0, found.output
    assert "2 response(s)" in found.output and "a***@example.vn" in found.output
    assert "an@example.vn" not in found.output and "comment" in found.output
    refused = runner.invoke(args=["privacy", "erase", "--contact", "an@example.vn"], input="n\n")
    assert refused.exit_code != 0
    with app.app_context():
        assert len(find_by_contact("an@example.vn")) == 2
    erased = runner.invoke(args=["privacy", "erase", "--contact", "an@example.vn", "--yes"])
    assert erased.exit_code == 0 and "2 response(s)" in erased.output
    with app.app_context():
        assert find_by_contact("an@example.vn") == []
    bad = runner.invoke(args=["privacy", "find", "--contact", "xin chào"])
    assert bad.exit_code != 0 and "Không phải" in bad.output
