"""Services from Backstage `catalog-info.yaml` files (`catalog.backstage_paths`), merged with `services:`.

Mapping of a `kind: Component` entity (other kinds are skipped):
* `metadata.name` -> `name`; `spec.owner` -> `owner` (`group:` and namespace dropped), unless the annotation
  `firewatch.io/rotation` names the rotation;
* `firewatch.io/runbook`, else a `metadata.links` entry titled or typed "runbook" -> `runbook`;
* `firewatch.io/dashboards` (comma-separated) and links titled or typed "dashboard" -> `dashboards`;
* `firewatch.io/tracker`, else `github.com/project-slug` (`github:<slug>`), else `jira/project-key` -> `tracker`;
* `pagerduty.com/service-id` -> `pagerduty_service_id`; `firewatch.io/escalation-policy` -> `escalation_policy`;
  `firewatch.io/slack-channel` -> `channel`. `pagerduty.com/integration-key` is a secret and never read.
A service also in `services:` keeps every field set there; Backstage fills the rest."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import yaml

A = "firewatch.io/"


def _links(metadata: dict, word: str) -> list[str]:
    found = []
    for link in metadata.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            label = f"{link.get('title') or ''} {link.get('type') or ''}".lower()
            if word in label:
                found.append(link["url"])
    return found


def _owner(annotations: dict, spec: dict) -> str | None:
    if annotations.get(A + "rotation"):
        return str(annotations[A + "rotation"])
    owner = spec.get("owner")
    if not isinstance(owner, str) or not owner.strip():
        return None
    return owner.split(":", 1)[-1].split("/", 1)[-1].strip()


def _tracker(annotations: dict) -> str | None:
    if annotations.get(A + "tracker"):
        return str(annotations[A + "tracker"])
    if annotations.get("github.com/project-slug"):
        return f"github:{annotations['github.com/project-slug']}"
    if annotations.get("jira/project-key"):
        return f"jira:{annotations['jira/project-key']}"
    return None


def component_to_service(entity: dict) -> dict[str, Any] | None:
    """The `services:` entry of one Backstage entity; None when it is not a named Component."""
    if str(entity.get("kind", "")).lower() != "component":
        return None
    metadata = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
    if not isinstance(metadata.get("name"), str):
        return None
    runbooks = [annotations[A + "runbook"]] if annotations.get(A + "runbook") else _links(metadata, "runbook")
    dashboards = [d.strip() for d in str(annotations.get(A + "dashboards") or "").split(",") if d.strip()]
    dashboards += [d for d in _links(metadata, "dashboard") if d not in dashboards]
    fields = {"name": metadata["name"], "owner": _owner(annotations, spec), "tracker": _tracker(annotations),
              "runbook": runbooks[0] if runbooks else None, "dashboards": dashboards,
              "pagerduty_service_id": annotations.get("pagerduty.com/service-id"),
              "escalation_policy": annotations.get(A + "escalation-policy"),
              "channel": annotations.get(A + "slack-channel")}
    return {k: v for k, v in fields.items() if v not in (None, [])}


def load_components(patterns: list[str], base_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Service entries from every file the globs match (relative to `base_dir`), and `catalog.backstage_paths`
    problems (a glob matching nothing, unreadable YAML)."""
    services: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, pattern in enumerate(patterns):
        paths = sorted(glob.glob(str(base_dir / pattern), recursive=True))
        if not paths:
            problems.append(f"catalog.backstage_paths[{i}]: {pattern!r} matches no file")
        for path in paths:
            try:
                docs = list(yaml.safe_load_all(Path(path).read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError) as exc:
                problems.append(f"catalog.backstage_paths[{i}]: {path}: {getattr(exc, 'problem', None) or exc}")
                continue
            services += [s for d in docs if isinstance(d, dict) and (s := component_to_service(d))]
    return services, problems


def merge(configured: list[Any], backstage: list[dict[str, Any]]) -> list[Any]:
    """`services:` entries first (Backstage fills the fields they leave out), then Backstage-only services."""
    by_name = {s["name"]: s for s in backstage}
    merged = []
    for entry in configured:
        extra = by_name.pop(entry.get("name"), None) if isinstance(entry, dict) else None
        merged.append({**extra, **entry} if extra else entry)
    return merged + list(by_name.values())


def expand(data: dict[str, Any], base_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """The raw config with `catalog.backstage_paths` services merged into `services:`, and the problems found."""
    catalog = data.get("catalog")
    patterns = catalog.get("backstage_paths") if isinstance(catalog, dict) else None
    if not isinstance(patterns, list) or not patterns:
        return data, []
    found, problems = load_components([str(p) for p in patterns], base_dir)
    configured = data.get("services") if isinstance(data.get("services"), list) else []
    return {**data, "services": merge(configured, found)}, problems
