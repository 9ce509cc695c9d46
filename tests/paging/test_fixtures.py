"""The sample payloads the paging tests use are copies of public samples kept in the repository (a plain clone
has no sibling `shared/`): each must parse and carry a note saying where it came from."""

from __future__ import annotations

import json

import pytest

from tests.paging.payloads import FIXTURES

COPIED = sorted(p.name for p in FIXTURES.iterdir() if p.name.endswith(".json"))


def test_fixture_set_is_complete():
    assert len(COPIED) == 8
    for name in COPIED:
        assert (FIXTURES / f"{name}.source.txt").is_file(), f"{name} has no provenance note"


@pytest.mark.parametrize("name", COPIED)
def test_each_copy_parses_and_names_its_source(name):
    assert isinstance(json.loads((FIXTURES / name).read_text(encoding="utf-8")), dict)
    note = (FIXTURES / f"{name}.source.txt").read_text(encoding="utf-8").strip()
    # A provenance note names a repository, a URL or a documentation page, not just the file.
    assert len(note) > 40 and name not in note.splitlines()[0], note
