"""Secrets never reach the model (issue 10): vendor token formats, and the values of Firewatch's own configured
secrets whatever their shape, wherever they appear in what is sent. Includes a hypothesis property test."""

from __future__ import annotations

import json
import string

import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import parse_config
from bot.assist.domain import EvidenceItem, Incident, Redactor, rca
from bot.assist.domain.redaction import configured_secrets, register_secrets, scrub_secrets
from bot.server import build_context
from bot.settings import Settings
from tests.conftest import make_settings
from tests.assist.helpers import COMPLETIONS, completion, make_client

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits

# One example of each format (made-up values in the documented shapes).
VENDOR_TOKENS = {
    "openai": "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0",
    "openai_project": "sk-proj-" + "Ab12" * 12,
    "aws_access_key": "AKIA" + "Q" * 8 + "27AB3XYZ",
    "aws_session_key": "ASIA" + "Y34FZKBOKMUTVV7A",
    "github_classic": "ghp_" + "x" * 36,
    "github_oauth": "gho_" + "Y1" * 18,
    "github_app": "ghs_" + "z2" * 18,
    "github_fine_grained": "github_pat_11ABCDEFG0123456789_" + "q" * 40,
    "gitlab": "glpat-" + "aB3dE6gH9jK2mN5pQ8sT",
    "slack_bot": "xoxb-1234567890-0987654321-AbCdEfGhIjKl",
    "slack_user": "xoxp-11111111-22222222-abcdefabcdef",
    "slack_refresh": "xoxr-1-abcdefABCDEF123456",
    "slack_app": "xapp-1-A0123456789-1234567890-abcdef0123",
    "google": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "stripe_secret": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "stripe_restricted": "rk_live_" + "51H8aBcDeFgHiJkLmNoPqRsT",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "npm": "npm_" + "a" * 36,
    "sendgrid": "SG." + "abcdefghijklmnop1234" + "." + "qrstuvwxyz0123456789ABCD",
    "slack_webhook": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
}
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "-----END OPENSSH PRIVATE KEY-----")


def test_every_vendor_format_is_removed():
    for kind, token in {**VENDOR_TOKENS, "private_key": PRIVATE_KEY}.items():
        text = f"error from upstream: {token} (see logs)"
        assert token not in Redactor(secrets=[]).redact(text), kind
        assert token not in scrub_secrets(text), kind
        assert "[REDACTED:" in scrub_secrets(text), kind


def test_ordinary_words_that_resemble_prefixes_are_kept():
    text = "the task-runner and desk-booking services; risk_live_demo ok; skip-this"
    assert Redactor(secrets=[]).redact(text) == text


def test_configured_secret_values_from_the_environment_are_removed_whatever_their_shape(monkeypatch):
    values = {"FIREWATCH_WEBHOOK_TOKEN": "whk-plain-words-2026", "SLACK_SIGNING_SECRET": "8f742231b10e8f742231",
              "OPENAI_API_KEY": "local-llm-key-abc", "ACME_DEPLOY_TOKEN": "ordinary looking text 42",
              "PAGERDUTY_ROUTING_KEY": "R0UTING0000000000000000000000000"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME_DIRECTORY_NAME", "not-a-secret-value")  # a name that says nothing about secrets
    found = configured_secrets()
    for value in values.values():
        assert value in found
    assert "not-a-secret-value" not in found
    text = "; ".join(f"the {n.lower()} is {v}" for n, v in values.items())
    out = Redactor().redact(text)
    for value in values.values():
        assert value not in out
    assert out.count("[REDACTED:configured_secret]") == len(values)


def test_settings_register_their_secrets_even_when_passed_directly():
    Settings(SLACK_BOT_TOKEN="bot-token-from-a-vault-7781", SLACK_SIGNING_SECRET="signing-from-a-vault-9912",
             SLACK_APP_TOKEN="app-token-from-a-vault-3310")
    out = scrub_secrets("boot log: bot-token-from-a-vault-7781 / signing-from-a-vault-9912 / app-token-from-a-vault-3310")
    assert "vault" not in out and out.count("[REDACTED:configured_secret]") == 3


@respx.mock
def test_configured_secrets_never_reach_the_model(monkeypatch):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", "alertmanager-shared-token-61")
    register_secrets(["signing-secret-registered-5521"])
    route = respx.post(COMPLETIONS).mock(return_value=completion({"inconclusive": True, "summary": "",
                                                                  "hypotheses": []}))
    incident = Incident("Webhook auth failing", "curl -H 'X-Token alertmanager-shared-token-61' rejected")
    evidence = [EvidenceItem("E1", "message", "pasted: signing-secret-registered-5521 and "
                             + VENDOR_TOKENS["openai_project"] + " and " + VENDOR_TOKENS["gitlab"])]
    rca(incident, evidence, make_client())
    assert route.called
    raw = route.calls[0].request.content.decode()
    decoded = "\n".join(m["content"] for m in json.loads(raw)["messages"])
    for secret in ("alertmanager-shared-token-61", "signing-secret-registered-5521", VENDOR_TOKENS["openai_project"],
                   VENDOR_TOKENS["gitlab"]):
        assert secret not in raw and secret not in decoded, secret


def test_the_client_scrubs_whatever_a_caller_forgot_to_redact():
    register_secrets(["forgotten-secret-value-77"])
    with respx.mock:
        route = respx.post(COMPLETIONS).mock(return_value=completion({"ok": True}))
        make_client().complete([{"role": "user", "content": "raw forgotten-secret-value-77 " + VENDOR_TOKENS["google"]}],
                               schema={"type": "object"}, schema_name="x")
    body = route.calls[0].request.content.decode()
    assert "forgotten-secret-value-77" not in body and VENDOR_TOKENS["google"] not in body


# -- property: a secret embedded anywhere in random text never survives ----------------------------------------------

def _fixed(prefix: str, alphabet: str, n: int):
    return st.text(alphabet, min_size=n, max_size=n).map(lambda s: prefix + s)


def _varying(prefix: str, alphabet: str, low: int, high: int = 60):
    return st.text(alphabet, min_size=low, max_size=high).map(lambda s: prefix + s)


_B64URL = ALNUM + "_-"
TOKENS = st.one_of(
    _varying("sk-", ALNUM, 20), _varying("sk-proj-", ALNUM + "_", 20),
    _fixed("AKIA", UPPER, 16), _fixed("ASIA", UPPER, 16),
    _fixed("ghp_", ALNUM, 36), _fixed("gho_", ALNUM, 36), _fixed("ghs_", ALNUM, 36),
    _varying("github_pat_", ALNUM + "_", 22), _varying("glpat-", ALNUM + "_", 20),
    st.sampled_from(["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-", "xapp-"]).flatmap(lambda p: _varying(p, ALNUM, 10)),
    _fixed("AIza", ALNUM + "_-", 35), _varying("sk_live_", ALNUM, 16), _varying("rk_live_", ALNUM, 16),
    st.tuples(_varying("", _B64URL, 4, 30), _varying("", _B64URL, 4, 30), _varying("", _B64URL, 0, 40))
    .map(lambda t: f"eyJ{t[0]}.{t[1]}.{t[2]}"),
)
# Text a secret can sit in: anything printable, with the secret set off by a non-word character (as in logs, JSON,
# headers and prose). A configured secret is removed even glued to other text.
SURROUNDING = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
SEPARATOR = st.sampled_from([" ", "\n", "\t", "'", '"', ":", "=", ",", "(", ")", "<", ">", "/", "[", "{"])
CONFIGURED = st.text(ALNUM + "-_.", min_size=8, max_size=64)


@settings(max_examples=400, deadline=None)
@given(before=SURROUNDING, after=SURROUNDING, left=SEPARATOR, right=SEPARATOR, token=TOKENS)
def test_property_token_formats_never_survive(before, after, left, right, token):
    text = f"{before}{left}{token}{right}{after}"
    assert token not in Redactor(secrets=[]).redact(text)
    assert token not in scrub_secrets(text)


@settings(max_examples=400, deadline=None)
@given(before=SURROUNDING, after=SURROUNDING, secret=CONFIGURED)
def test_property_configured_secrets_never_survive_anywhere(before, after, secret):
    text = f"{before}{secret}{after}{secret}"
    assert secret not in Redactor(secrets=[secret]).redact(text)


def test_secrets_under_env_names_the_config_chose_are_redacted_once_the_app_is_built(monkeypatch, database_url,
                                                                                     fake_slack):
    # `HOOKPASS` and `PD_PAYMENTS` say nothing about secrets by their names: only the config says they hold some.
    monkeypatch.setenv("HOOKPASS", "hook-value-from-config-8812")
    monkeypatch.setenv("PD_PAYMENTS", "pd-value-from-config-7734")
    assert "hook-value-from-config-8812" not in configured_secrets()
    cfg = parse_config({"webhooks": {"token_env": "HOOKPASS"}, "escalation_policies": [
        {"name": "payments", "steps": [{"notify": "user:U0ALICE", "timeout": "5m"}],
         "pagerduty": {"routing_key_env": "PD_PAYMENTS"}}]})
    ctx = build_context(make_settings(database_url, fake_slack.api_url), cfg)
    try:
        out = Redactor().redact("curl -H 'Authorization: hook-value-from-config-8812' … key pd-value-from-config-7734")
    finally:
        ctx.engine.dispose()
    assert "hook-value-from-config-8812" not in out and "pd-value-from-config-7734" not in out
    assert out.count("[REDACTED:configured_secret]") == 2
