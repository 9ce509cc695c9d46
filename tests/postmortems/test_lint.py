"""Blameless linter: every rule, rewrites, positions, skipped regions, false positives and extra rules files."""

from __future__ import annotations

import pytest

from bot.postmortems.domain.linter import (
    DEFAULT_RULES_PATH,
    RulesError,
    default_rules,
    lint,
    load_rules,
    mask_non_prose,
)


def rules_of(text: str) -> list[str]:
    return [f.rule for f in lint(text)]


# ------------------------------------------------------------------------------------------- required examples


def test_required_counterfactual_example_is_flagged():
    findings = lint("the deploy should have been rolled back automatically by the pipeline")
    assert len(findings) == 1
    f = findings[0]
    assert f.rule == "counterfactual-should-have"
    assert f.phrase == "should have been"
    assert (f.line, f.column, f.end_column) == (1, 12, 27)
    assert f.rewrite == "was not"  # -> "the deploy was not rolled back automatically by the pipeline"
    assert f.suggestion


def test_required_factual_example_is_clean():
    assert lint("the pipeline rolled back the deploy") == []


@pytest.mark.parametrize(
    "text",
    [
        'The client logged "failed to connect to db-1" for ten minutes.',
        "The client logged “failed to connect to db-1” for ten minutes.",
        "The client logged `failed to connect to db-1` for ten minutes.",
        "The client logged:\n\n```\nERROR failed to connect to db-1\n```\n",
        "The client logged:\n\n~~~text\nERROR failed to connect to db-1\n~~~\n",
        "> ERROR failed to connect to db-1",
    ],
)
def test_required_quoted_log_line_is_not_flagged(text):
    assert lint(text) == []


def test_unquoted_failed_to_is_flagged_with_rewrite():
    (f,) = lint("The client failed to connect to db-1.")
    assert f.rule == "counterfactual-failed-to"
    assert f.rewrite == "did not"


# ------------------------------------------------------------------------------------------------ every rule


@pytest.mark.parametrize(
    "text, rule, phrase",
    [
        # a person mentioned as the cause (Slack mentions and @handles)
        ("<@U123ABC> caused the outage.", "person-mention-cause", "<@U123ABC> caused"),
        ("<@U123ABC|alice> broke checkout.", "person-mention-cause", "<@U123ABC|alice> broke"),
        ("@alice broke the build.", "person-mention-cause", "@alice broke"),
        ("@bob.smith accidentally deleted the index.", "person-mention-cause", "@bob.smith accidentally deleted"),
        ("@alice's change broke checkout.", "person-mention-cause", "@alice's change broke"),
        ("The outage was caused by <@U123ABC>.", "person-mention-cause", "caused by <@U123ABC>"),
        ("It was broken by @carol.", "person-mention-cause", "broken by @carol"),
        ("That was @dave's mistake.", "person-mention-cause", "@dave's mistake"),
        # a person named as the cause
        ("Bob broke the deploy.", "person-named-cause", "Bob broke"),
        ("Then Alice forgot the flag.", "person-named-cause", "Alice forgot"),
        ("Alice Smith missed the page.", "person-named-cause", "Alice Smith missed"),
        ("Carol accidentally deleted the bucket.", "person-named-cause", "Carol accidentally deleted"),
        ("José forgot the migration.", "person-named-cause", "José forgot"),
        ("It was Bob's mistake.", "person-named-cause", "Bob's mistake"),
        ("It was Alice’s fault.", "person-named-cause", "Alice’s fault"),
        ("The outage was caused by Alice.", "person-named-cause", "caused by Alice"),
        ("she forgot to drain the node", "pronoun-cause", "she forgot"),
        ("Paging stalled because the on-call was asleep.", "person-state-cause", "because the on-call was asleep"),
        ("It waited since <@U0ANA> was away.", "person-state-cause", "since <@U0ANA> was away"),
        ("Nobody knows who is at fault.", "fault", "at fault"),
        ("The delay was blamed on the on-call engineer.", "fault", "blamed on"),
        # human / operator error
        ("Root cause: human error.", "human-error", "human error"),
        ("This was operator error.", "human-error", "operator error"),
        # counterfactuals
        ("We should have paged earlier.", "counterfactual-should-have", "should have"),
        ("They shouldn't have restarted it.", "counterfactual-should-have", "shouldn't have"),
        ("It should not have been merged.", "counterfactual-should-have", "should not have been"),
        ("We could have caught it in staging.", "counterfactual-could-have", "could have"),
        ("The job failed to start.", "counterfactual-failed-to", "failed to"),
        ("The reviewer neglected to check.", "counterfactual-failed-to", "neglected to"),
        ("If only the canary had run.", "counterfactual-if-only", "If only"),
        (
            "Had we rolled back earlier, the outage would not have lasted an hour.",
            "counterfactual-had-would",
            "Had we rolled back earlier, the outage would not have",
        ),
        ("If the alert had fired, we wouldn't have lost orders.", "counterfactual-had-would",
         "had fired, we wouldn't have"),
        # character judgements
        ("It was a careless change.", "character-judgement", "careless"),
        ("Sloppy review.", "character-judgement", "Sloppy"),
        ("A lazy fix.", "character-judgement", "lazy"),
        ("That was negligent.", "character-judgement", "negligent"),
        ("An incompetent rollout.", "character-judgement", "incompetent"),
        ("A reckless force-push.", "character-judgement", "reckless"),
        # hindsight
        ("Obviously the config was wrong.", "hindsight", "Obviously"),
        ("It was obvious that the disk was full.", "hindsight", "It was obvious"),
        ("They clearly should test first.", "hindsight", "clearly should"),
        # interrogation
        ("Why did you restart the primary?", "why-did-you", "Why did you"),
        ("why didn't they escalate?", "why-did-you", "why didn't they"),
    ],
)
def test_rule(text, rule, phrase):
    findings = [f for f in lint(text) if f.rule == rule]
    assert [f.phrase for f in findings] == [phrase], lint(text)
    f = findings[0]
    assert text[f.column - 1 : f.end_column] == phrase
    assert f.message and f.suggestion and f.category


def test_every_builtin_rule_has_a_test():
    tested = {
        "person-mention-cause", "person-named-cause", "pronoun-cause", "fault", "human-error",
        "counterfactual-should-have", "counterfactual-could-have", "counterfactual-failed-to",
        "counterfactual-if-only", "counterfactual-had-would", "character-judgement", "hindsight", "why-did-you",
        "person-state-cause",
    }
    assert {r.id for r in default_rules().rules} == tested


# --------------------------------------------------------------------------------------------------- rewrites


@pytest.mark.parametrize(
    "text, rewrite",
    [
        ("the deploy should have been rolled back", "was not"),
        ("Should have been caught in review.", "Was not"),
        ("the flag should not have been enabled", "was"),
        ("the flag shouldn’t have been enabled", "was"),
        ("the health check failed to detect it", "did not"),
        ("Failed to page the secondary.", "Did not"),
        ("obviously the queue was full", ""),
        ("a careless change", ""),
    ],
)
def test_rewrites(text, rewrite):
    (f,) = lint(text)
    assert f.rewrite == rewrite


def test_rewrite_applied_reads_blamelessly():
    text = "the deploy should have been rolled back automatically by the pipeline"
    (f,) = lint(text)
    fixed = text[: f.column - 1] + f.rewrite + text[f.end_column :]
    assert fixed == "the deploy was not rolled back automatically by the pipeline"
    assert lint(fixed) == []


def test_rules_without_mechanical_rewrite_still_suggest():
    (f,) = lint("Bob broke the deploy.")
    assert f.rewrite is None
    assert "person" in f.suggestion


def test_format_and_to_dict():
    (f,) = lint("x\n  obviously wrong")
    assert f.format("pm.md") == (
        "pm.md:2:3: hindsight obviously — " + f.suggestion + ' Try: remove "obviously".'
    )
    d = f.to_dict()
    assert d == {
        "line": 2, "column": 3, "end_line": 2, "end_column": 11, "rule": "hindsight", "phrase": "obviously",
        "message": f.message, "suggestion": f.suggestion, "rewrite": "", "category": "hindsight",
    }


# -------------------------------------------------------------------------------------------------- positions


def test_positions_in_a_document():
    text = "---\ntitle: 'should have'\n---\n\n## Impact\n\nOrders were lost.\nWe could have paged sooner, and Bob broke it.\n"
    findings = lint(text)
    assert [(f.rule, f.line, f.column, f.end_column) for f in findings] == [
        ("counterfactual-could-have", 8, 4, 13),
        ("person-named-cause", 8, 33, 41),
    ]
    lines = text.splitlines()
    for f in findings:
        assert lines[f.line - 1][f.column - 1 : f.end_column] == f.phrase


def test_phrase_spanning_a_line_wrap():
    text = "Had we rolled back\nearlier, it would not have lasted."
    (f,) = lint(text)
    assert (f.line, f.end_line) == (1, 2)
    assert f.rule == "counterfactual-had-would"


def test_match_across_a_heading_is_reported_on_its_own_line():
    # Before: (1, 4, "Timeline\nBob broke") — the heading line, with the heading word in the phrase.
    for text in ("## Timeline\nBob broke the deploy at 14:02.\n", "Timeline\n========\nBob broke the deploy.\n"):
        (f,) = lint(text)
        assert (f.line, f.column, f.phrase, f.rule) == (text.count("\n", 0, text.index("Bob")) + 1, 1, "Bob broke",
                                                        "person-named-cause")


def test_system_states_are_not_person_states():
    assert lint("The job retried because the primary was offline.") == []
    assert lint("Writes failed because the database was unavailable.") == []


def test_had_would_does_not_cross_sentences_or_paragraphs():
    assert lint("We had two replicas. The third would not start.") == []
    assert lint("We had two replicas\n\nwould not matter") == []


def test_crlf_input():
    (f,) = lint("fine\r\nBob broke it\r\n")
    assert (f.line, f.column) == (2, 1)


# ----------------------------------------------------------------------------------------------- skipped text


def test_front_matter_is_skipped():
    assert lint("---\ntitle: \"Bob broke it: human error\"\nnotes: should have\n---\nAll good.\n") == []


def test_unclosed_front_matter_is_not_skipped():
    assert rules_of("---\nBob broke it\n") == ["person-named-cause"]


def test_html_comments_single_and_multi_line_are_skipped():
    assert lint("<!-- should have -->\nok <!-- human error --> fine\n") == []
    assert lint("<!--\nBob broke it\nshould have\n-->\nThe fix shipped.\n") == []
    assert rules_of("<!-- a --> Bob broke it") == ["person-named-cause"]
    assert rules_of("<!--\nhidden\n--> Bob broke it") == ["person-named-cause"]


def test_blockquotes_are_skipped_including_in_lists():
    assert lint("> Bob: I broke it, should have checked\n>> nested human error\n- > listed: obviously\n") == []


def test_inline_code_with_double_backticks():
    assert lint("Run ``grep `failed to` log`` to check.") == []


def test_quotes_do_not_swallow_the_line_when_unbalanced():
    # An odd quote mark must not hide the rest of the line from the linter.
    assert rules_of('The 12" rack; Bob broke it') == ["person-named-cause"]


def test_quoted_chat_messages_are_skipped():
    assert lint('Bob wrote "I forgot the flag, my mistake" at 14:02.') == []
    assert lint("«human error» was the first guess; „should have“ too.") == []


def test_fenced_code_closes_only_on_matching_fence():
    text = "````\n```\nshould have\n```\nstill code: human error\n````\nBob broke it\n"
    assert rules_of(text) == ["person-named-cause"]


def test_mask_keeps_length_and_newlines():
    text = '---\na: b\n---\nx "q" `c` <!-- d -->\n> e\n```\nf\n```\n'
    masked = mask_non_prose(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")
    assert masked.strip() == "x"


# ------------------------------------------------------------------------------------------- false positives


@pytest.mark.parametrize(
    "text",
    [
        "The pipeline rolled back the deploy.",
        "The deploy caused a spike in 5xx responses.",
        "Deploy caused errors for 12 minutes.",
        "Retries caused a thundering herd on the primary.",
        "Kubernetes deleted the pods after the node drained.",
        "Then the cleanup job deleted the old snapshots.",
        "We use lazy loading for the catalogue, and lazy-initialised clients.",
        "The dashboards showed no obvious signal; the cause was not obvious at first.",
        "User errors increased tenfold during the window.",
        "Contact firewatch@localhost or alice@example.com for the export.",
        "The alert did not fire because the threshold was above the peak.",
        "The runbook step was missing, so the on-call engineer restarted the wrong pool.",
        "What made restarting the primary look like the right step at the time?",
        "We had two replicas and one cache node.",
        "The team would like to add a canary.",
        "Git blame shows the change landed on Tuesday.",
        "This was DNS: the resolver cache expired.",
    ],
)
def test_blameless_text_is_clean(text):
    assert lint(text) == [], lint(text)


# -------------------------------------------------------------------------------------------- rules are data


def test_extra_rules_file_adds_overrides_and_disables(tmp_path):
    extra = tmp_path / "team.yaml"
    extra.write_text(
        """
not_names: [Orion]
rules:
  - id: team-hero
    category: judgement
    patterns: ['\\bhero(?:ic|ics)?\\b']
    message: Heroics hide system problems.
    suggestion: Describe what the system needed a person to do.
  - id: counterfactual-could-have
    enabled: false
  - id: counterfactual-failed-to
    suggestion: Say what did not happen.
""",
        encoding="utf-8",
    )
    text = "Orion deleted the cache. It was heroic. We could have waited. The job failed to start."
    assert rules_of(text) == ["person-named-cause", "counterfactual-could-have", "counterfactual-failed-to"]
    findings = lint(text, extra_rules=extra)
    assert [f.rule for f in findings] == ["team-hero", "counterfactual-failed-to"]
    assert findings[1].suggestion == "Say what did not happen."
    assert findings[1].rewrite == "did not"  # untouched fields are kept


def test_load_rules_merges_multiple_files(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("rules:\n  - {id: x, pattern: 'foo', message: m, suggestion: s}\n", encoding="utf-8")
    b = tmp_path / "b.yaml"
    b.write_text("rules:\n  - {id: x, patterns: ['bar']}\n", encoding="utf-8")
    rules = load_rules([a, b])
    assert [f.phrase for f in lint("foo bar", rules) if f.rule == "x"] == ["bar"]


def test_case_sensitive_rule(tmp_path):
    extra = tmp_path / "cs.yaml"
    extra.write_text("rules:\n  - {id: cs, case_sensitive: true, pattern: 'YOLO', message: m, suggestion: s}\n")
    assert [f.rule for f in lint("YOLO yolo", extra_rules=extra)] == ["cs"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("rules:\n  - {id: bad, pattern: '(', message: m, suggestion: s}\n", "invalid pattern"),
        ("rules:\n  - {pattern: 'x', message: m, suggestion: s}\n", "needs an `id`"),
        ("rules:\n  - {id: y, message: m, suggestion: s}\n", "at least one pattern"),
        ("rules:\n  - {id: y, pattern: x, suggestion: s}\n", "needs a `message`"),
        ("rules:\n  - {id: y, pattern: x, message: m, suggestion: s, colour: red}\n", "unknown key"),
        ("not_names: [No]\n", "quote it"),
        ("rules: {}\n", "must be a list"),
        ("- just a list\n", "must be a mapping"),
        ("rules: [\n", "invalid YAML"),
    ],
)
def test_invalid_rules_files_are_reported(tmp_path, content, message):
    extra = tmp_path / "bad.yaml"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError, match=message) as info:
        load_rules(extra)
    assert str(extra) in str(info.value)


def test_missing_rules_file(tmp_path):
    with pytest.raises(RulesError, match="cannot read"):
        lint("x", extra_rules=tmp_path / "missing.yaml")


def test_builtin_rules_file_is_valid_and_named():
    assert DEFAULT_RULES_PATH.name == "blameless_rules.yaml"
    rules = load_rules()
    assert len(rules.rules) >= 10
    assert "kubernetes" in rules.not_names
