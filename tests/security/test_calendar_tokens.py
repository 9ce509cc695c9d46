"""Calendar links (issue 10): one token per person and rotation, revocable with `/oncall export revoke` (the old
link then gets 403), built on FIREWATCH_PUBLIC_URL, and the token never written to Firewatch's logs."""

from __future__ import annotations

import logging
import re

import httpx
from sqlmodel import select

from storage.models import CalendarToken
from tests.conftest import ALICE, BOB
from tests.rotations.helpers import oncall, start, text_of

PUBLIC = "https://fw.example.com"
LINK = re.compile(re.escape(PUBLIC) + r"/oncall/payments\.ics\?token=([\w-]+)")


def _token(h, user: str) -> str:
    reply = text_of(oncall(h, "export", user=user))
    m = LINK.search(reply)
    assert m, reply
    return m.group(1)


def _feed(h, token: str) -> int:
    with httpx.Client(base_url=h.running.url, timeout=10) as http:
        return http.get(f"/oncall/payments.ics?token={token}").status_code


def test_one_token_per_person_and_rotation(harness_factory):
    h = start(harness_factory, FIREWATCH_PUBLIC_URL=PUBLIC)
    bob, bob_again, alice = _token(h, BOB), _token(h, BOB), _token(h, ALICE)
    assert bob == bob_again and bob != alice
    with h.ctx.session() as s:
        rows = s.exec(select(CalendarToken)).all()
    assert sorted((r.user_id, r.rotation) for r in rows) == sorted([(ALICE, "payments"), (BOB, "payments")])


def test_revoke_turns_the_old_link_off_and_only_the_askers(harness_factory):
    h = start(harness_factory, FIREWATCH_PUBLIC_URL=PUBLIC)
    bob, alice = _token(h, BOB), _token(h, ALICE)
    assert _feed(h, bob) == 200
    reply = text_of(oncall(h, "export revoke", user=BOB))
    assert "Revoked" in reply and bob not in reply
    assert _feed(h, bob) == 403
    assert _feed(h, alice) == 200  # Bob's revoke cannot touch Alice's link
    fresh = _token(h, BOB)
    assert fresh != bob and _feed(h, fresh) == 200


def test_revoke_without_a_link_says_so(harness_factory):
    h = start(harness_factory, FIREWATCH_PUBLIC_URL=PUBLIC)
    assert "You have no *payments* calendar link to revoke" in text_of(oncall(h, "export revoke", user=BOB))


def test_without_public_url_no_link_is_handed_out(harness_factory):
    h = start(harness_factory)
    reply = text_of(oncall(h, "export", user=BOB))
    assert "FIREWATCH_PUBLIC_URL" in reply and "token=" not in reply and "localhost" not in reply
    with h.ctx.session() as s:
        assert s.exec(select(CalendarToken)).all() == []


def test_the_token_is_never_logged(harness_factory, caplog):
    caplog.set_level(logging.DEBUG)
    h = start(harness_factory, FIREWATCH_PUBLIC_URL=PUBLIC)
    token = _token(h, BOB)
    assert _feed(h, token) == 200
    assert _feed(h, token + "x") == 403
    text_of(oncall(h, "export revoke", user=BOB))
    assert _feed(h, token) == 403
    # The test's own HTTP client (httpx) logs the URL it fetched; everything the server side logs is checked.
    logged = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert logged  # the server did log (requests, jobs), just never the token
    assert not [line for line in logged if token in line]
