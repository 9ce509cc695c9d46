"""Publishing to a real local bare git repository; results are read back with `git show branch:path`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.postmortems import publishing as publish_module
from bot.postmortems.publishing import LintBlocked, PublishError, _auth_config, git_environment, publish
from bot.postmortems.domain.render import document_path, render_markdown, split_front_matter
from tests.postmortems.conftest import TITLE, git, make_facts, show

BRANCH = "postmortem/inc-42"
PATH = "postmortems/2024/0042-checkout-api-returning-500s-payments-2.md"


def files_on(bare: Path, ref: str) -> list[str]:
    return git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", ref).split()


def commit_count(bare: Path, rng: str) -> int:
    return int(git("--git-dir", str(bare), "rev-list", "--count", rng).strip())


def test_publish_commits_file_on_branch(remote, config_for, facts, tmp_path):
    markdown = render_markdown(facts)
    result = publish(config_for(), facts, markdown)

    assert result.path == PATH == document_path(config_for(), facts)
    assert result.branch == BRANCH
    assert result.pushed and result.changed
    assert result.pr_url is None
    assert result.findings == []
    assert result.commit_sha == git("--git-dir", str(remote), "rev-parse", BRANCH).strip()

    published = show(remote, BRANCH, PATH)
    assert published == markdown
    meta, body = split_front_matter(published)
    assert meta["incident"] == 42 and meta["title"] == TITLE and meta["status"] == "draft"
    times = re.findall(r"^- \*\*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\*\* — (.*?)(?: \(|$)", body, re.M)
    assert [t for t, _ in times] == sorted(t for t, _ in times)
    assert [text for _, text in times] == [
        "Alert: checkout 5xx rate above 5%",
        "Incident declared: sev2",
        "Deploy v1.42 identified as the trigger",
        "Rolled back to v1.41; error rate back to baseline",
    ]

    # Committed by the bot, with a message naming the incident, on top of main; main itself is untouched.
    log = git("--git-dir", str(remote), "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", BRANCH).strip()
    assert log == f"Firewatch <firewatch@localhost>|Firewatch <firewatch@localhost>|Postmortem for INC-42: {TITLE}"
    assert commit_count(remote, f"main..{BRANCH}") == 1
    assert files_on(remote, "main") == ["README.md"]
    assert files_on(remote, BRANCH) == ["README.md", PATH]


def test_republish_updates_same_file_and_skips_unchanged(remote, config_for, facts):
    config = config_for()
    first = publish(config, facts, render_markdown(facts))

    again = publish(config, facts, render_markdown(facts))
    assert not again.changed and not again.pushed
    assert again.commit_sha == first.commit_sha
    assert again.path == first.path

    updated = render_markdown(facts, {"what_went_well": "The rollback took three minutes."})
    second = publish(config, facts, updated)
    assert second.changed and second.pushed
    assert second.path == first.path
    assert second.commit_sha != first.commit_sha
    assert show(remote, BRANCH, PATH) == updated
    assert files_on(remote, BRANCH) == ["README.md", PATH]  # one document, not a duplicate
    assert commit_count(remote, f"main..{BRANCH}") == 2
    subject = git("--git-dir", str(remote), "log", "-1", "--format=%s", BRANCH).strip()
    assert subject == f"Update postmortem for INC-42: {TITLE}"


def test_cached_workdir_is_reused(remote, config_for, facts, tmp_path):
    workdir = tmp_path / "cache" / "postmortems"
    config = config_for(workdir=str(workdir))
    publish(config, facts, render_markdown(facts))
    assert (workdir / ".git").is_dir()
    marker = workdir / ".git" / "firewatch-test-marker"
    marker.write_text("x")
    # Leftovers from an interrupted run do not leak into the next commit.
    (workdir / "stray.txt").write_text("junk")
    result = publish(config, facts, render_markdown(facts, {"impact": "311 orders failed."}))
    assert marker.exists()  # fetched into the same clone, not re-cloned
    assert result.changed
    assert files_on(remote, BRANCH) == ["README.md", PATH]


def test_explicit_workdir_argument(remote, config_for, facts, tmp_path):
    result = publish(config_for(), facts, render_markdown(facts), workdir=tmp_path / "wd")
    assert (tmp_path / "wd" / PATH).read_text(encoding="utf-8") == show(remote, BRANCH, PATH)
    assert result.pushed


def _other_clone_pushes(remote: Path, tmp_path: Path, edit: dict[str, str]) -> None:
    other = tmp_path / f"other-{len(list(tmp_path.iterdir()))}"
    git("clone", "-q", "--branch", BRANCH, str(remote), str(other))
    for path, content in edit.items():
        (other / path).parent.mkdir(parents=True, exist_ok=True)
        (other / path).write_text(content, encoding="utf-8")
        git("add", path, cwd=other)
    git("commit", "-q", "-m", "Edit from another clone", cwd=other)
    git("push", "-q", "origin", BRANCH, cwd=other)


@pytest.mark.parametrize("same_file", [False, True])
def test_non_fast_forward_is_fetched_and_retried(remote, config_for, facts, tmp_path, monkeypatch, same_file):
    config = config_for(workdir=str(tmp_path / "cache"))
    publish(config, facts, render_markdown(facts))

    # Another clone pushes to the branch after our fetch and commit, before our push.
    original_commit = publish_module._Publisher.commit
    calls = {"n": 0}

    def commit_then_race(self, *args, **kwargs):
        outcome = original_commit(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            edit = {PATH: "human edit\n"} if same_file else {"postmortems/2024/graphs.md": "graphs\n"}
            _other_clone_pushes(remote, tmp_path, edit)
        return outcome

    monkeypatch.setattr(publish_module._Publisher, "commit", commit_then_race)
    updated = render_markdown(facts, {"impact": "311 orders failed."})
    result = publish(config, facts, updated)

    assert calls["n"] == 2  # rejected once, re-applied on the new tip, pushed
    assert result.pushed
    assert show(remote, BRANCH, PATH) == updated
    # The other clone's commit is kept in history (and its file, when it was a different one).
    subjects = git("--git-dir", str(remote), "log", "--format=%s", BRANCH).splitlines()
    assert subjects[:2] == [f"Update postmortem for INC-42: {TITLE}", "Edit from another clone"]
    if not same_file:
        assert show(remote, BRANCH, "postmortems/2024/graphs.md") == "graphs\n"
    assert result.commit_sha == git("--git-dir", str(remote), "rev-parse", BRANCH).strip()


def test_branch_that_keeps_moving_gives_up_with_clear_error(remote, config_for, facts, tmp_path, monkeypatch):
    config = config_for()
    publish(config, facts, render_markdown(facts))
    original_commit = publish_module._Publisher.commit

    def commit_then_race(self, *args, **kwargs):
        outcome = original_commit(self, *args, **kwargs)
        _other_clone_pushes(remote, tmp_path, {"notes.md": f"{os.urandom(4).hex()}\n"})
        return outcome

    monkeypatch.setattr(publish_module._Publisher, "commit", commit_then_race)
    draft = render_markdown(facts, {"impact": "changed"})
    with pytest.raises(PublishError, match="rejected 3 times"):
        publish(config, facts, draft)
    assert "changed" in draft  # the caller's draft is untouched


def test_does_not_depend_on_user_git_config(remote, config_for, facts, tmp_path):
    home = tmp_path / "empty-home"
    home.mkdir()
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        # Inherited identity and repository variables must be ignored.
        "GIT_AUTHOR_NAME": "Someone Else",
        "GIT_COMMITTER_EMAIL": "someone@example.com",
        "GIT_DIR": str(tmp_path / "nope"),
    }
    result = publish(config_for(author="Incident Bot <bot@acme.example>"), facts, render_markdown(facts), environ=environ)
    assert result.pushed
    who = git("--git-dir", str(remote), "log", "-1", "--format=%an <%ae> / %cn <%ce>", BRANCH).strip()
    assert who == "Incident Bot <bot@acme.example> / Incident Bot <bot@acme.example>"


def test_git_environment_is_minimal():
    env = git_environment({"PATH": "/bin", "HOME": "/h", "GIT_DIR": "/x", "SECRET": "s"}, {"a.b": "c"})
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert "GIT_DIR" not in env and "SECRET" not in env
    assert env["GIT_CONFIG_COUNT"] == "1" and env["GIT_CONFIG_KEY_0"] == "a.b" and env["GIT_CONFIG_VALUE_0"] == "c"
    assert "BatchMode=yes" in env["GIT_SSH_COMMAND"]


def test_https_token_header_only_for_the_github_host(config_for):
    https = config_for(repo="https://github.com/acme/postmortems.git", mode="pull-request", github={"repo": "acme/postmortems"})
    (key, value), = _auth_config(https, "tok").items()
    assert key == "http.https://github.com/.extraheader" and value.startswith("AUTHORIZATION: basic ")
    assert _auth_config(https, None) == {}
    ssh = config_for(repo="git@github.com:acme/postmortems.git")
    assert _auth_config(ssh, "tok") == {}
    elsewhere = config_for(repo="https://git.example.com/acme/postmortems.git")
    assert _auth_config(elsewhere, "tok") == {}


def test_lint_findings_are_returned_not_blocking(remote, config_for, facts):
    draft = render_markdown(facts, {"contributing_factors": "Bob broke the deploy; it should have been caught."})
    result = publish(config_for(), facts, draft)
    assert result.pushed
    assert [f.rule for f in result.findings] == ["person-named-cause", "counterfactual-should-have"]


def test_block_on_lint_refuses_before_touching_git(remote, config_for, facts):
    draft = render_markdown(facts, {"contributing_factors": "Bob broke the deploy."})
    with pytest.raises(LintBlocked) as info:
        publish(config_for(block_on_lint=True), facts, draft)
    assert [f.rule for f in info.value.findings] == ["person-named-cause"]
    assert git("--git-dir", str(remote), "branch", "--list", BRANCH).strip() == ""


def test_extra_rules_from_config_are_used(remote, config_for, facts, tmp_path):
    extra = tmp_path / "rules.yaml"
    extra.write_text("rules:\n  - {id: no-checkout, pattern: 'three minutes', message: m, suggestion: s}\n")
    draft = render_markdown(facts, {"what_went_well": "The rollback took three minutes."})
    result = publish(config_for(extra_rules=str(extra)), facts, draft)
    assert [f.rule for f in result.findings] == ["no-checkout"]


def test_missing_repo_path(config_for, facts, tmp_path):
    config = config_for(repo=str(tmp_path / "does-not-exist.git"))
    with pytest.raises(PublishError, match="cloning .*does-not-exist.git failed"):
        publish(config, facts, render_markdown(facts))


def test_missing_base_branch(tmp_path, config_for, facts):
    empty = tmp_path / "empty.git"
    git("init", "-q", "--bare", str(empty))
    with pytest.raises(PublishError, match="base branch 'main' does not exist"):
        publish(config_for(repo=str(empty)), facts, render_markdown(facts))
    with pytest.raises(PublishError, match="base branch 'trunk' does not exist"):
        publish(config_for(branch="trunk"), facts, render_markdown(facts))


def test_unconfigured_repo(facts):
    from bot.postmortems.domain.config import PostmortemsConfig

    with pytest.raises(PublishError, match="postmortems.repo is not configured"):
        publish(PostmortemsConfig(), facts, "x")


def test_workdir_of_another_repo_is_refused(remote, config_for, facts, tmp_path):
    other = tmp_path / "other.git"
    git("init", "-q", "--bare", str(other))
    workdir = tmp_path / "wd"
    git("clone", "-q", str(other), str(workdir))
    with pytest.raises(PublishError, match="is a clone of"):
        publish(config_for(workdir=str(workdir)), facts, render_markdown(facts))
    nonempty = tmp_path / "stuff"
    nonempty.mkdir()
    (nonempty / "keep.txt").write_text("precious")
    with pytest.raises(PublishError, match="not empty"):
        publish(config_for(workdir=str(nonempty)), facts, render_markdown(facts))
    assert (nonempty / "keep.txt").read_text() == "precious"


def test_network_errors_are_retried_then_reported(config_for, facts):
    sleeps: list[float] = []
    # Port 9 (discard) on localhost: connection refused immediately, a network error.
    config = config_for(repo="http://user:secret@127.0.0.1:9/acme/postmortems.git")
    with pytest.raises(PublishError) as info:
        publish(config, facts, render_markdown(facts), sleep=sleeps.append)
    assert sleeps == [1.0, 2.0]
    message = str(info.value)
    assert "could not be reached" in message
    assert "secret" not in message


def test_symlinked_directory_cannot_redirect_the_write(remote, config_for, facts, tmp_path):
    seed = tmp_path / "seed"
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, seed / "postmortems")
    git("add", "postmortems", cwd=seed)
    git("commit", "-q", "-m", "symlink", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    with pytest.raises(PublishError, match="outside the repository"):
        publish(config_for(), facts, render_markdown(facts))
    assert list(outside.iterdir()) == []


def test_other_incident_gets_its_own_branch_and_file(remote, config_for, facts):
    publish(config_for(), facts, render_markdown(facts))
    other = make_facts(number=7, title="DNS resolver cache expired", channel_prefix="ops")
    result = publish(config_for(), other, render_markdown(other))
    assert result.branch == "postmortem/ops-7"
    assert result.path == "postmortems/2024/0007-dns-resolver-cache-expired.md"
    assert files_on(remote, "postmortem/ops-7") == ["README.md", result.path]
