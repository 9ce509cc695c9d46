"""Publish a postmortem draft to a git repository (and optionally open a GitHub pull request).

Flow: clone the repo (or fetch into a cached workdir), check out `postmortem/<prefix>-<number>` from the remote
branch if it exists, else from the base branch, write the document at the configured path, commit as the bot if
the content changed, push. The branch and path are derived from the incident, so re-publishing updates the same
file on the same branch and never creates a duplicate.

Each publish rewrites the whole file from the draft it is given: the caller owns the draft, and an update replaces
what is on the branch (git history keeps earlier versions, including any human edits made on the branch).

git runs as a subprocess with a minimal environment: no terminal prompts, identity passed with `-c`, so nothing
depends on the host user's git configuration. Failures are retried where that can help (network errors with a
short backoff; a rejected push by fetching and re-applying the change on the new tip), then raised as
`PublishError` with a message that says what to check. The draft is never lost: `publish` does not modify it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bot.postmortems.domain.config import PostmortemsConfig
from bot.postmortems.domain.facts import PostmortemFacts
from bot.postmortems.github import GitHubError, GitHubPulls
from bot.postmortems.domain.linter import Finding, lint
from bot.postmortems.domain.render import document_path

GIT_TIMEOUT_SECONDS = 120
NETWORK_ATTEMPTS = 3
PUSH_ATTEMPTS = 3

# Environment variables git may legitimately need from the host; everything else (GIT_DIR, GIT_AUTHOR_*, ...) is
# dropped so a publish behaves the same from a shell, a hook or a service manager.
_PASS_THROUGH = (
    "PATH", "HOME", "TMPDIR", "SYSTEMROOT", "SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO",
)
_AUTH_ERRORS = re.compile(
    r"authentication failed|permission denied|could not read (?:username|password)|terminal prompts disabled|"
    r"invalid username or password|host key verification failed|access denied|returned error: 40[13]|"
    r"repository not found|write access to repository not granted",
    re.I,
)
_NETWORK_ERRORS = re.compile(
    r"could not resolve host|connection (?:timed out|refused|reset)|operation timed out|timed out|early eof|"
    r"rpc failed|remote end hung up|temporary failure|network is unreachable|returned error: 5\d\d|"
    r"unable to access|ssl_connect|gnutls",
    re.I,
)
_REJECTED = re.compile(r"\[rejected\]|non-fast-forward|fetch first|stale info|\[remote rejected\].*(?:lock|cannot)", re.I)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


class PublishError(Exception):
    """Publishing failed; the message is meant for the user. `partial` holds what did succeed (e.g. the push)."""

    def __init__(self, message: str, *, findings: list[Finding] | None = None, partial: "PublishResult | None" = None):
        super().__init__(message)
        self.findings = findings or []
        self.partial = partial


class LintBlocked(PublishError):
    """`block_on_lint` is on and the draft has blameless-linter findings."""


@dataclass
class PublishResult:
    path: str  # repository-relative path of the document
    branch: str  # postmortem/<prefix>-<number>
    commit_sha: str  # tip of the branch after publishing
    pr_url: str | None  # pull request URL in pull-request mode
    pushed: bool  # a new commit was pushed (False: the branch already had this exact content)
    changed: bool = False  # this publish created a commit (same as pushed unless a later step failed)
    findings: list[Finding] = field(default_factory=list)  # blameless-linter findings for the draft


class _GitError(Exception):
    def __init__(self, args: list[str], returncode: int, output: str):
        self.args_ = args
        self.returncode = returncode
        self.output = output
        super().__init__(f"git {' '.join(args)} exited {returncode}: {output.strip()}")

    @property
    def kind(self) -> str:
        if _AUTH_ERRORS.search(self.output):
            return "auth"
        if _REJECTED.search(self.output):
            return "rejected"
        if _NETWORK_ERRORS.search(self.output):
            return "network"
        return "other"


class _Git:
    """Runs git with a clean environment, bot identity and secret redaction."""

    def __init__(self, env: dict[str, str], author_name: str, author_email: str, secrets: list[str]):
        self.env = env
        self.secrets = [s for s in secrets if s]
        self.config = [
            "-c", f"user.name={author_name}",
            "-c", f"user.email={author_email}",
            "-c", "commit.gpgsign=false",
            "-c", "core.autocrlf=false",
            "-c", f"core.hooksPath={os.devnull}",  # a cloned repo's hooks must not run in the bot
            "-c", "advice.detachedHead=false",
        ]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _URL_CREDENTIALS.sub(r"\1***@", text)

    def __call__(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(
                ["git", *self.config, *args],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise PublishError("git is not installed (or not on PATH); it is needed to publish postmortems") from None
        except subprocess.TimeoutExpired:
            raise _GitError(list(args), -1, f"timed out after {GIT_TIMEOUT_SECONDS}s") from None
        if check and proc.returncode != 0:
            raise _GitError(list(args), proc.returncode, self.redact(proc.stderr + proc.stdout))
        return proc

    def out(self, *args: str, cwd: Path | None = None) -> str:
        return self(*args, cwd=cwd).stdout.strip()


def git_environment(environ: Mapping[str, str] | None = None, config: Mapping[str, str] | None = None) -> dict[str, str]:
    """Minimal environment for git: host essentials, no prompts, C locale (stable error text), extra `-c` config
    passed through GIT_CONFIG_* so values such as auth headers never appear on a command line."""
    source = os.environ if environ is None else environ
    env = {k: source[k] for k in _PASS_THROUGH if k in source}
    env.setdefault("PATH", os.defpath)
    env.update({"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "LC_ALL": "C", "LANG": "C"})
    # BatchMode: an ssh password or passphrase prompt would hang the bot; fail fast instead.
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    for i, (key, value) in enumerate((config or {}).items()):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    if config:
        env["GIT_CONFIG_COUNT"] = str(len(config))
    return env


def _is_local(repo: str) -> bool:
    return "://" not in repo and not re.match(r"^[\w.-]+@[\w.-]+:", repo)


def _remote_url(repo: str) -> str:
    # Local paths are made absolute so a cached clone's origin stays valid whatever the working directory.
    return str(Path(repo).expanduser().resolve()) if _is_local(repo) else repo


def _github_web_host(api_url: str) -> str | None:
    host = urlparse(api_url).hostname
    if host is None:
        return None
    return host[4:] if host.startswith("api.") else host


def _auth_config(config: PostmortemsConfig, token: str | None) -> dict[str, str]:
    """HTTPS auth header for pushing to GitHub with the API token (same host only, so it cannot leak elsewhere)."""
    if not token:
        return {}
    parsed = urlparse(config.repo or "")
    host = _github_web_host(config.github.api_url)
    if parsed.scheme != "https" or parsed.hostname != host:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {f"http.https://{host}/.extraheader": f"AUTHORIZATION: basic {basic}"}


def _describe(exc: _GitError, repo: str, what: str) -> str:
    kind = exc.kind
    if kind == "auth":
        hint = "check the bot's credentials (deploy key or token) and its write access to the repository"
    elif kind == "network":
        hint = "the git server could not be reached; try again later"
    elif kind == "rejected":
        hint = "the branch kept moving while publishing; try again"
    else:
        hint = "see git's message"
    return f"{what} {repo} failed: {hint}. git said: {exc.output.strip()[-500:]}"


@contextlib.contextmanager
def _locked(workdir: Path) -> Iterator[None]:
    """Serialise publishes sharing a cached workdir (two at once would trample each other's checkout)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX: no locking
        yield
        return
    workdir.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{workdir}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Publisher:
    def __init__(self, config: PostmortemsConfig, git: _Git, workdir: Path, sleep: Callable[[float], None]):
        self.config = config
        self.git = git
        self.workdir = workdir
        self.sleep = sleep
        self.url = _remote_url(config.repo or "")

    def _network(self, what: str, *args: str, cwd: Path | None = None) -> None:
        """Run a git command that talks to the remote, retrying transient network failures with backoff."""
        for attempt in range(1, NETWORK_ATTEMPTS + 1):
            try:
                self.git(*args, cwd=cwd)
                return
            except _GitError as exc:
                if exc.kind != "network" or attempt == NETWORK_ATTEMPTS:
                    raise PublishError(_describe(exc, self.git.redact(self.config.repo or ""), what)) from None
                self.sleep(2.0 ** (attempt - 1))

    def prepare(self) -> None:
        """Clone into the workdir, or fetch if it already holds a clone of this repo."""
        wd = self.workdir
        if (wd / ".git").exists():
            origin = self.git("config", "--get", "remote.origin.url", cwd=wd, check=False).stdout.strip()
            if origin != self.url:
                raise PublishError(
                    f"workdir {wd} is a clone of {self.git.redact(origin) or 'nothing'}, not of "
                    f"{self.git.redact(self.url)}; point postmortems.workdir at an empty directory"
                )
            # A previous run may have died half-way: throw away anything local, the remote is the truth.
            self.git("reset", "-q", "--hard", cwd=wd, check=False)
            self.git("clean", "-q", "-ffdx", cwd=wd, check=False)
            self.fetch()
        else:
            if wd.exists() and any(wd.iterdir()):
                raise PublishError(f"workdir {wd} exists, is not empty and is not a git clone; refusing to use it")
            wd.mkdir(parents=True, exist_ok=True)
            self._network("cloning", "clone", "-q", "--no-tags", self.url, str(wd))

    def fetch(self) -> None:
        self._network("fetching", "fetch", "-q", "--prune", "origin", cwd=self.workdir)

    def _has_remote_branch(self, name: str) -> bool:
        return self.git("rev-parse", "-q", "--verify", f"refs/remotes/origin/{name}", cwd=self.workdir, check=False).returncode == 0

    def commit(self, path: str, branch: str, markdown: str, facts: PostmortemFacts) -> tuple[bool, bool]:
        """Check out the branch from the remote, write the file, commit if changed. Returns (changed, branch_on_remote)."""
        on_remote = self._has_remote_branch(branch)
        if on_remote:
            start = f"origin/{branch}"
        elif self._has_remote_branch(self.config.branch):
            start = f"origin/{self.config.branch}"
        else:
            raise PublishError(
                f"base branch {self.config.branch!r} does not exist in {self.git.redact(self.config.repo or '')}; "
                f"push an initial commit to it (or set postmortems.branch) first"
            )
        self.git("checkout", "-q", "-f", "-B", branch, start, cwd=self.workdir)

        root = self.workdir.resolve()
        target = (root / path).resolve()
        # Resolving follows symlinks: a link committed in the repo must not steer the write outside the clone.
        if root not in target.parents or (root / ".git") in (target, *target.parents):
            raise PublishError(f"document path {path!r} resolves outside the repository checkout")
        existed = target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(markdown, encoding="utf-8", newline="")
        self.git("add", "--", path, cwd=self.workdir)
        if self.git("diff", "--cached", "--quiet", cwd=self.workdir, check=False).returncode == 0:
            return False, on_remote
        title = " ".join(facts.title.split())
        verb = "Update postmortem" if existed else "Postmortem"
        message = (
            f"{verb} for {facts.incident_id}: {title}\n\n"
            f"Drafted by Firewatch from the incident record ({facts.incident_id}, {facts.severity}).\n"
        )
        self.git("commit", "-q", "-m", message, cwd=self.workdir)
        return True, on_remote

    def push(self, branch: str) -> str:
        """Push HEAD to the branch; a rejected push is reported to the caller as 'rejected'."""
        for attempt in range(1, NETWORK_ATTEMPTS + 1):
            try:
                self.git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.workdir)
                return "ok"
            except _GitError as exc:
                if exc.kind == "rejected":
                    return "rejected"
                if exc.kind != "network" or attempt == NETWORK_ATTEMPTS:
                    raise PublishError(_describe(exc, self.git.redact(self.config.repo or ""), "pushing to")) from None
                self.sleep(2.0 ** (attempt - 1))
        raise AssertionError("unreachable")

    def head(self) -> str:
        return self.git.out("rev-parse", "HEAD", cwd=self.workdir)


def _preflight(config: PostmortemsConfig, facts: PostmortemFacts, markdown: str,
               env_source: Mapping[str, str]) -> tuple[list[Finding], str | None, str]:
    """Lint, token and document path, checked before any git work: (findings, token, path); raises PublishError."""
    if not config.repo:
        raise PublishError("postmortems.repo is not configured; set it to a git URL or a local path")
    findings = lint(markdown, extra_rules=config.extra_rules)
    if config.block_on_lint and findings:
        raise LintBlocked(
            f"the draft has {len(findings)} blameless-language finding(s) and postmortems.block_on_lint is on",
            findings=findings,
        )
    token: str | None = None
    if config.mode == "pull-request":
        token = env_source.get(config.github.token_env)
        if not token:
            raise PublishError(
                f"mode pull-request needs a GitHub token in ${config.github.token_env}; nothing was published",
                findings=findings,
            )
    try:
        path = document_path(config, facts)
    except ValueError as exc:
        raise PublishError(str(exc), findings=findings) from None
    return findings, token, path


def _commit_and_push(publisher: _Publisher, path: str, branch: str, markdown: str,
                     facts: PostmortemFacts) -> tuple[bool, bool, bool]:
    """Commit and push, re-applying the change on a branch that moved meanwhile: (changed, pushed, on_remote)."""
    changed = pushed = on_remote = False
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        changed, on_remote = publisher.commit(path, branch, markdown, facts)
        if not changed:
            break
        if publisher.push(branch) == "ok":
            pushed = on_remote = True
            break
        if attempt == PUSH_ATTEMPTS:
            raise PublishError(
                f"pushing {branch} was rejected {PUSH_ATTEMPTS} times (the branch keeps moving); try again"
            )
        # Someone pushed to the branch meanwhile: fetch and re-apply our change on their tip.
        publisher.fetch()
    return changed, pushed, on_remote


def _publish_in_workdir(config: PostmortemsConfig, git: _Git, chosen: str | Path | None, sleep: Callable[[float], None],
                        path: str, branch: str, markdown: str, facts: PostmortemFacts,
                        findings: list[Finding]) -> tuple[str, bool, bool, bool]:
    """Clone or fetch, commit, push, in the cached workdir (locked) or a temporary one: (sha, changed, pushed, on_remote)."""
    with contextlib.ExitStack() as stack:
        if chosen is None:
            wd = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="firewatch-postmortem-"))) / "repo"
        else:
            wd = Path(chosen).expanduser()
            stack.enter_context(_locked(wd))
        publisher = _Publisher(config, git, wd, sleep)
        try:
            publisher.prepare()
            changed, pushed, on_remote = _commit_and_push(publisher, path, branch, markdown, facts)
            return publisher.head(), changed, pushed, on_remote
        except PublishError as exc:
            exc.findings = exc.findings or findings
            raise
        except _GitError as exc:  # a local git step failed (disk full, corrupt clone...)
            raise PublishError(_describe(exc, git.redact(config.repo or ""), "publishing to"), findings=findings) from None


def _open_pull_request(config: PostmortemsConfig, facts: PostmortemFacts, result: PublishResult, token: str,
                       git: _Git, http_client: httpx.Client | None, sleep: Callable[[float], None]) -> None:
    """Open or update the GitHub pull request for the pushed branch; sets `result.pr_url`."""
    findings = result.findings
    title = f"Postmortem for {facts.incident_id}: {' '.join(facts.title.split())}"
    body = (
        f"Postmortem draft for **{facts.incident_id}** ({facts.severity}), published by Firewatch.\n\n"
        f"File: `{result.path}`\n\n"
        + (f"Blameless-language linter: {len(findings)} finding(s) to review.\n" if findings else
           "Blameless-language linter: no findings.\n")
    )
    try:
        pull = GitHubPulls(config.github, token, http_client, sleep=sleep).ensure(
            branch=result.branch, base=config.branch, title=title, body=body
        )
    except GitHubError as exc:
        raise PublishError(
            f"the postmortem was pushed to {result.branch}, but opening the pull request failed: {git.redact(str(exc))}",
            findings=findings,
            partial=result,
        ) from None
    result.pr_url = pull.get("html_url")


def publish(
    config: PostmortemsConfig,
    facts: PostmortemFacts,
    markdown: str,
    workdir: str | Path | None = None,
    *,
    http_client: httpx.Client | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    """Commit `markdown` for the incident to `config.repo` on `postmortem/<prefix>-<number>` and push it.

    `workdir` (or `config.workdir`) is a cached clone reused between calls; without one a temporary clone is used.
    In pull-request mode, also opens or updates the GitHub pull request (`http_client` for tests/proxies).
    `environ` replaces os.environ for the token lookup and the git environment. The draft is linted first; with
    `block_on_lint` findings raise LintBlocked. Raises PublishError (never loses or alters `markdown`).
    """
    env_source = os.environ if environ is None else environ
    findings, token, path = _preflight(config, facts, markdown, env_source)
    branch = facts.branch_name
    git = _Git(
        git_environment(env_source, _auth_config(config, token)),
        config.author_name,
        config.author_email,
        secrets=[token or ""],
    )
    chosen = workdir if workdir is not None else config.workdir
    sha, changed, pushed, on_remote = _publish_in_workdir(config, git, chosen, sleep, path, branch, markdown, facts,
                                                          findings)
    result = PublishResult(path=path, branch=branch, commit_sha=sha, pr_url=None, pushed=pushed, changed=changed, findings=findings)
    if config.mode == "pull-request" and on_remote and token:
        _open_pull_request(config, facts, result, token, git, http_client, sleep)
    return result
