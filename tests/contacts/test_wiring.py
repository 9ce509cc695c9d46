"""Contacts in the running app: routes mounted, hooks and `/oncall contact` registered, jobs stored by reference;
and the `firewatch contacts` commands."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from bot.cli import main
from bot.contacts import service
from tests.contacts.conftest import ANA, T0, WEBHOOK_TOKEN, contacts_config


def test_running_app_refuses_unsigned_twilio_posts_and_stores_contact_jobs_by_reference(harness_factory, twilio,
                                                                                       monkeypatch):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    h = harness_factory(contacts_config(heartbeats=[{"name": "wd", "interval": "5m", "policy": "payments"}]))
    unsigned = httpx.post(f"{h.running.url}/webhooks/twilio/voice?page=1&user={ANA}", data={"Digits": "1"})
    assert unsigned.status_code == 403
    beat = httpx.post(f"{h.running.url}/webhooks/heartbeat/wd", headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
    assert beat.status_code == 200 and beat.json()["ok"] is True
    services = h.ctx.services
    assert service.on_page_reached in services.page_reached and service.on_page_closed in services.page_closed
    assert services.oncall_commands["contact"].__module__ == "bot.contacts.commands"

    assert service.on_page_reached(h.ctx, 4242, ANA, now=T0) == 3  # push, sms, voice
    job = services.scheduler.aps.get_job(service.job_id(4242, ANA, 2))
    assert job.func_ref == "bot.contacts.jobs:notify_step" and job.args == (4242, ANA, 2, 1)
    assert service.on_page_closed(h.ctx, 4242, "resolved") == 3
    assert not [j for j in services.scheduler.job_ids() if j.startswith("contacts:4242:")]


def test_cli_contacts_check_reports_people_without_a_working_method(tmp_path, database_url, monkeypatch):
    import yaml

    cfg = contacts_config()
    cfg["contacts"].append({"user": "U0NOBODY"})
    path = tmp_path / "firewatch.yaml"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "FIREWATCH_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["contacts", "check", "--config", str(path)])
    assert result.exit_code == 1
    assert "U0NOBODY has no contact method besides Slack" in result.output
    assert "U0ANA" not in result.output  # push needs no credentials: Ana can be reached
    attempts = CliRunner().invoke(main, ["contacts", "attempts", "7", "--config", str(path)])
    assert attempts.exit_code == 0 and "no notification attempts for page 7" in attempts.output
