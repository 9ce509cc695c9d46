"""The alert's own PromQL from Alertmanager's `generatorURL` (a Prometheus graph link, `…/graph?g0.expr=…`).

Only the expression is taken; the URL itself is never requested. An expression is trusted only from a link whose
host is the configured Prometheus's (or from any host when the operator says so)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

MAX_EXPRESSION_CHARS = 2000  # longer than any alert rule worth running as evidence


def host_of(url: str) -> str | None:
    """The lower-cased host name of an http(s) URL; None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()


def generator_expression(url: str | None, prometheus_url: str, *, trust_any_host: bool = False) -> str | None:
    """`g0.expr` of a Prometheus generatorURL, decoded; None when absent, too long, or from an untrusted host."""
    if not url:
        return None
    host = host_of(url)
    if host is None or (not trust_any_host and host != host_of(prometheus_url)):
        return None
    try:
        values = parse_qs(urlsplit(url.strip()).query).get("g0.expr") or []
    except ValueError:
        return None
    expr = values[0].strip() if values else ""
    return expr if expr and len(expr) <= MAX_EXPRESSION_CHARS else None


def alert_expressions(urls: list[str], prometheus_url: str, *, trust_any_host: bool = False,
                      limit: int = 5) -> list[str]:
    """The distinct trusted expressions of the alerts' generatorURLs, in alert order, at most `limit`."""
    out: list[str] = []
    for url in urls:
        expr = generator_expression(url, prometheus_url, trust_any_host=trust_any_host)
        if expr and expr not in out:
            out.append(expr)
    return out[:limit]
