"""Redaction: every secret kind is removed before a request leaves; people get stable placeholders."""

from __future__ import annotations

import json

import respx

from bot.assist.domain import EvidenceItem, Incident, Redactor, rca, redact, restore_for_display, triage

from tests.assist.helpers import COMPLETIONS, ROTATIONS, SEVERITIES, completion, good_triage, make_client

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
AWS_STS_KEY = "ASIAY34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SLACK_TOKENS = ["xoxb-1234567890-0987654321-AbCdEfGhIjKl", "xoxp-11111111-22222222-abcdefabcdef",
                "xoxa-2-abcdef123456789", "xoxe-1-My0xabcdef123456", "xapp-1-A0123456789-1234567890-abcdef0123"]
GITHUB_TOKENS = ["ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "gho_" + "Z" * 36, "ghu_" + "y7" * 18,
                 "ghs_" + "x8" * 18, "ghr_" + "w9" * 18, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv"]
BEARER = "Bearer sk-live-9f8e7d6c5b4a39281706"
URL_PASSWORD = "hunter2-pw"
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nAnotherLineOfKeyMaterial123==\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
GENERIC = {"password": "Sup3rS3cret!", "secret": "s3cr3t-value-42", "token": "tok_abcdef123456"}
EMAIL = "jane.doe@example.com"
USER_IDS = ["U024BE7LH", "W0123ABCDE"]

PLANTED = [AWS_KEY, AWS_STS_KEY, AWS_SECRET, *SLACK_TOKENS, *GITHUB_TOKENS, "sk-live-9f8e7d6c5b4a39281706",
           URL_PASSWORD, PEM_BODY, "AnotherLineOfKeyMaterial123", JWT, *GENERIC.values(), EMAIL, *USER_IDS]


def _evidence() -> list[EvidenceItem]:
    return [
        EvidenceItem("E1", "alert", f"boto error key={AWS_KEY} temp {AWS_STS_KEY} aws_secret_access_key={AWS_SECRET}"),
        EvidenceItem("E2", "message", "tokens leaked: " + " ".join(SLACK_TOKENS) + " and " + " ".join(GITHUB_TOKENS)),
        EvidenceItem("E3", "timeline", f"curl -H 'Authorization: {BEARER}' https://api.example.com/v1/charges",
                     url=f"postgres://app:{URL_PASSWORD}@db.internal:5432/pay"),
        EvidenceItem("E4", "message", f"someone pasted the key:\n{PEM}\nplease rotate"),
        EvidenceItem("E5", "alert", f"session cookie {JWT} rejected"),
        EvidenceItem("E6", "message", " ".join(f"{k}={v}" for k, v in GENERIC.items())
                     + f" contact {EMAIL}; <@{USER_IDS[0]}> and {USER_IDS[1]} are on it"),
    ]


@respx.mock
def test_no_planted_secret_leaves_in_any_request_body():
    route = respx.post(COMPLETIONS).mock(side_effect=[
        completion(good_triage(first_steps=[], evidence_ids=["E1"])),
        completion({"inconclusive": True, "summary": "", "hypotheses": []}),
    ])
    client = make_client()
    incident = Incident(f"Leak by {EMAIL}", f"db url mysql://root:{URL_PASSWORD}@10.0.0.5/app, {BEARER}")
    triage(incident, _evidence(), SEVERITIES, ROTATIONS, client)
    rca(incident, _evidence(), client)

    assert route.call_count == 2
    for call in route.calls:
        raw = call.request.content.decode("utf-8")
        decoded = "\n".join(m["content"] for m in json.loads(raw)["messages"])
        for secret in PLANTED:
            assert secret not in raw and secret not in decoded, secret
        for marker in ["[REDACTED:aws_key]", "[REDACTED:aws_secret]", "[REDACTED:slack_token]",
                       "[REDACTED:github_token]", "[REDACTED:bearer_token]", "[REDACTED:password]",
                       "[REDACTED:private_key]", "[REDACTED:jwt]", "[REDACTED:secret]", "[EMAIL-1]",
                       "responder-1", "responder-2"]:
            assert marker in decoded, marker
        # URL credentials: the user and host survive, only the password goes.
        assert "postgres://app:[REDACTED:password]@db.internal:5432/pay" in decoded


def test_each_kind_individually():
    cases = {
        f"id {AWS_KEY}": "id [REDACTED:aws_key]",
        f"AWS_SECRET_ACCESS_KEY = {AWS_SECRET}": "AWS_SECRET_ACCESS_KEY = [REDACTED:aws_secret]",
        f"Authorization: {BEARER}": "Authorization: Bearer [REDACTED:bearer_token]",
        f"https://bob:{URL_PASSWORD}@git.example.com/x": "https://bob:[REDACTED:password]@git.example.com/x",
        f"a {JWT} b": "a [REDACTED:jwt] b",
        "password: 'abc123xyz'": "password: '[REDACTED:secret]'",
        "DB_PASSWORD=hunter22": "DB_PASSWORD=[REDACTED:secret]",
        f"before\n{PEM}\nafter": "before\n[REDACTED:private_key]\nafter",
    }
    for text, expected in cases.items():
        assert redact(text).text == expected, text


def test_placeholders_are_stable_per_request_and_reversible_only_for_people():
    r = Redactor()
    a = r.redact(f"<@U024BE7LH> paged <@W0123ABCDE>; mail {EMAIL}")
    b = r.redact(f"U024BE7LH again, {EMAIL.upper()} token={GENERIC['token']}")
    assert a == "responder-1 paged responder-2; mail [EMAIL-1]"
    assert b == "responder-1 again, [EMAIL-1] token=[REDACTED:secret]"
    assert r.mapping == {"responder-1": "U024BE7LH", "responder-2": "W0123ABCDE", "[EMAIL-1]": EMAIL}
    assert GENERIC["token"] not in json.dumps(r.mapping)  # secrets are never kept
    # A fresh request starts numbering again.
    assert redact("<@W0123ABCDE>").text == "responder-1"


def test_words_that_look_like_ids_are_left_alone():
    text = "WARNING: UNAVAILABLE upstream; USERNAME unchanged"
    assert redact(text).text == text


def test_display_maps_people_to_plain_names_never_mentions():
    mapping = {"responder-1": "U024BE7LH", "[EMAIL-1]": EMAIL}
    shown = restore_for_display("ask responder-1 or [EMAIL-1]; responder-2 <!here>", mapping)
    assert shown == f"ask U024BE7LH or {EMAIL}; responder-2 &lt;!here&gt;"
    named = restore_for_display("ask responder-1", mapping, display_name=lambda uid: "<!channel> Dana")
    assert named == "ask &lt;!channel&gt; Dana"  # even a hostile display name cannot notify
