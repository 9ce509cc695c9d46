"""The deployment files agree with the app: port, probe paths, environment names, commands, Slack scopes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from bot.cli import main
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "manifests" / "kubernetes"
# Environment names the app reads outside Settings: the default webhook token (firewatch.yaml
# `webhooks.token_env`) and the log format (read before Settings, in `firewatch`'s group callback).
OTHER_ENV = {"FIREWATCH_WEBHOOK_TOKEN"}


def documents() -> dict[str, dict]:
    docs = [d for d in yaml.safe_load_all((KUBE / "firewatch.yaml").read_text()) if d]
    return {d["kind"]: d for d in docs}


def settings_env_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        names.update(field.validation_alias.choices)
    return names


def containerfile_instruction(name: str) -> list[str]:
    line = next(l for l in (ROOT / "manifests" / "Containerfile").read_text().splitlines() if l.startswith(name))
    return json.loads(line.removeprefix(name).strip())


def serve_params(args: list[str]) -> dict:
    """Parse container args with the real CLI, so an option that does not exist fails here."""
    assert args[0] == "serve"
    return main.commands["serve"].make_context("serve", list(args[1:])).params


def test_deployment_runs_two_replicas_of_serve_on_the_service_port():
    kinds = documents()
    deployment, service = kinds["Deployment"], kinds["Service"]
    assert deployment["spec"]["replicas"] == 2
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    params = serve_params(container["args"])
    assert params["host"] == "0.0.0.0"
    assert container["ports"][0]["containerPort"] == params["port"] == service["spec"]["ports"][0]["targetPort"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": params["port"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": params["port"]}
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_every_environment_name_is_one_the_app_reads():
    kinds = documents()
    known = settings_env_names() | OTHER_ENV
    for kind in ("Deployment", "Job"):
        for container in kinds[kind]["spec"]["template"]["spec"]["containers"]:
            names = {e["name"] for e in container["env"]}
            assert names <= known, names - known
            for entry in container["env"]:
                if entry["name"] in Settings().secret_values() or entry["name"].startswith("SLACK_"):
                    assert "secretKeyRef" in entry["valueFrom"]  # secrets are referenced, never inlined


def test_migrations_are_a_separate_job_and_the_image_serves_by_default():
    job = documents()["Job"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert main.commands["db"].commands["upgrade"] is not None
    assert containerfile_instruction("ENTRYPOINT") == ["firewatch"]
    cmd = containerfile_instruction("CMD")
    assert serve_params(cmd)["port"] == 3000
    text = (ROOT / "manifests" / "Containerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert re.search(r"^USER (?!root|0\b)", text, re.M)
    assert "db upgrade" not in "".join(l for l in text.splitlines() if l.startswith(("CMD", "ENTRYPOINT")))


def test_kustomization_lists_the_manifest():
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert all((KUBE / r).exists() for r in kustomization["resources"])


def test_probe_paths_answer_on_a_running_server(harness):
    [container] = documents()["Deployment"]["spec"]["template"]["spec"]["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert httpx.get(harness.running.url + container[probe]["httpGet"]["path"]).status_code == 200


# Each scope and the Web API methods (or events) that need it; a scope no code calls for must not be requested.
SCOPE_USES = {
    "chat:write": [r"chat_postMessage"], "channels:manage": [r"conversations_create"],
    "groups:write": [r"conversations_create"], "pins:write": [r"pins_add"], "files:write": [r"files_upload_v2"], "bookmarks:write": [r"bookmarks_add"],
    "channels:read": [r"conversations_members"], "groups:read": [r"conversations_members"],
    "channels:history": [r"conversations_history"], "groups:history": [r"conversations_history"],
    "im:history": [r"conversations_history"], "im:write": [r"conversations_open"],
    "users:read": [r"users_info"], "users:read.email": [r"users_lookupByEmail"],
    "usergroups:write": [r"usergroups_users_update"], "reactions:read": [r"reaction_added"],
    "reactions:write": [r"reactions_add"],
    "commands": [r"app\.command\("], "chat:write.public": [r"chat_postMessage"],
}


@pytest.mark.parametrize("scope", sorted(SCOPE_USES))
def test_each_requested_scope_is_used_by_the_code(scope):
    manifest = yaml.safe_load((ROOT / "manifests" / "slack-app.yaml").read_text())
    requested = set(manifest["oauth_config"]["scopes"]["bot"])
    assert requested <= set(SCOPE_USES), f"scopes without a known use: {requested - set(SCOPE_USES)}"
    if scope not in requested:
        return
    pattern = "|".join(SCOPE_USES[scope])
    found = subprocess.run(["grep", "-rEl", "--include=*.py", pattern, "bot"], cwd=ROOT, capture_output=True,
                           text=True).stdout.split()
    found = [f for f in found if not f.startswith("bot/devtools/")]  # the stand-in implements every method
    assert found, f"{scope} is requested but nothing in bot/ uses {pattern}"


def test_unused_scopes_are_not_requested():
    manifest = yaml.safe_load((ROOT / "manifests" / "slack-app.yaml").read_text())
    requested = set(manifest["oauth_config"]["scopes"]["bot"])
    assert not requested & {"usergroups:read"}
