"""A local bare git repository to publish postmortems to (the demo, trying Firewatch out without a git server)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from bot.postmortems.publishing import git_environment


def _git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Firewatch", "-c", "user.email=firewatch@localhost", "-c", "commit.gpgsign=false",
         "-c", "init.defaultBranch=main", *args],
        cwd=cwd, env=git_environment(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def init_bare_repository(path: str | Path, branch: str = "main") -> Path:
    """Create a bare repository at `path` whose `branch` holds one commit (a README), ready for `postmortems.repo`.
    An existing repository with that branch is left as it is."""
    bare = Path(path).expanduser().resolve()
    if (bare / "HEAD").exists():
        if _git("--git-dir", str(bare), "branch", "--list", branch).strip():
            return bare
    else:
        bare.parent.mkdir(parents=True, exist_ok=True)
        _git("init", "-q", "--bare", str(bare))
    with tempfile.TemporaryDirectory(prefix="firewatch-seed-") as tmp:
        seed = Path(tmp) / "seed"
        _git("clone", "-q", str(bare), str(seed))
        (seed / "README.md").write_text("# Postmortems\n\nBlameless postmortems published by Firewatch.\n",
                                        encoding="utf-8")
        _git("checkout", "-q", "-B", branch, cwd=seed)
        _git("add", "README.md", cwd=seed)
        _git("commit", "-q", "-m", "Initial commit", cwd=seed)
        _git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=seed)
    _git("--git-dir", str(bare), "symbolic-ref", "HEAD", f"refs/heads/{branch}")
    return bare
