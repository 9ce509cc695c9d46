"""Regenerate `methods.json` from Slack's published OpenAPI 2.0 spec of the Web API.

Usage: python -m bot.devtools.slack_spec.generate PATH/TO/slack_web_openapi_v2.json

For every method it keeps only what the fake Slack checks: the accepted argument names and the required ones.
`token` is left out of both: Firewatch sends it as an `Authorization` header.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("methods.json")


def compact(spec: dict) -> dict[str, dict[str, list[str]]]:
    """Method name -> {"args": [...], "required": [...]}, both sorted, `token` excluded."""
    methods: dict[str, dict[str, list[str]]] = {}
    for path, ops in sorted(spec["paths"].items()):
        for op in ops.values():
            params = [p for p in op.get("parameters", []) if p.get("name") != "token"]
            methods[path.lstrip("/")] = {
                "args": sorted({p["name"] for p in params}),
                "required": sorted({p["name"] for p in params if p.get("required")}),
            }
    return methods


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    OUT.write_text(json.dumps(compact(spec), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
