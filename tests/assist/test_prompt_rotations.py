"""The triage prompt lists each configured rotation on its own line (a template whitespace slip once joined them)."""

from bot.assist.domain import Incident, RotationOption
from bot.assist.domain.prompts import render


def test_triage_prompt_lists_one_rotation_per_line():
    text = render("triage.j2", incident=Incident(title="Checkout down"), evidence=[], severities=[],
                  rotations=[RotationOption(name="payments"), RotationOption(name="platform", services=("api",))])
    lines = text.splitlines()
    assert "- payments" in lines
    assert "- platform (services: api)" in lines
