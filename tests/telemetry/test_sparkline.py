"""The sparkline PNG of the top findings, and its upload to the incident channel through Slack's current two-step
upload (files.getUploadURLExternal, POST the bytes, files.completeUploadExternal) on the strict stand-in
(the two methods' argument contract: `upload_spec` in conftest)."""

from __future__ import annotations

import copy
import io

import httpx
import pytest
import respx
from PIL import Image
from sqlmodel import select

from bot.telemetry.domain.anomaly import Finding
from bot.telemetry.sparkline import render, size_for
from storage.models import Incident
from tests.assist.conftest import CONFIG

URL = "http://prometheus.invalid:9090"
QUERY = 'sum(rate(http_requests_total{code=~"5.."}[1m]))'
def finding(n: int) -> Finding:
    points = [(1000.0 + 15 * i, 1.0 if i < 40 else 8.0 + n) for i in range(60)]
    return Finding(QUERY, {"pod": f"api-{n}"}, 1600.0, 1.0, 8.0 + n, 50.0, 10.0, points)


@pytest.mark.parametrize("rows", [1, 3, 5])
def test_png_opens_with_expected_size(rows):
    png = render([finding(n) for n in range(rows)], start=1650.0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.size == size_for(rows) == (480, 90 * min(rows, 3))
    # not a blank canvas: the lines and dots drew something other than the background
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 2


def matrix(request: httpx.Request) -> httpx.Response:
    """A query_range answer in Prometheus's documented shape: flat at 1, jumping to 10 five minutes before `end`."""
    start, end = float(request.url.params["start"]), float(request.url.params["end"])
    step = float(request.url.params["step"])
    values, t = [], start
    while t <= end:
        values.append([t, "10" if t >= end - 300 else ("1" if int(t / step) % 2 else "1.02")])
        t += step
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"service": "checkout"}, "values": values}]}})


def test_declare_uploads_sparkline_to_incident_channel(harness_factory):
    cfg = copy.deepcopy(CONFIG)
    cfg["services"] = [{"name": "checkout", "queries": [QUERY]}]
    cfg["evidence"] = {"prometheus": {"url": URL}}
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        router.get(f"{URL}/api/v1/query_range").mock(side_effect=matrix)
        h = harness_factory(cfg)
        channel = h.declare("sev2 checkout failing")
        done = h.fake.wait_for(lambda f: f.calls_to("files.completeUploadExternal"), 15)
    assert not h.fake.violations
    announced = h.fake.calls_to("files.getUploadURLExternal")[0].params
    (upload,) = h.fake.uploads.values()
    assert done[0].params["channel_id"] == channel
    assert upload["channels"] == [channel] and int(announced["length"]) == len(upload["data"])
    image = Image.open(io.BytesIO(upload["data"]))
    assert image.format == "PNG" and image.size == size_for(1)
    with h.ctx.session() as s:
        incident = s.exec(select(Incident).where(Incident.channel_id == channel)).one()
    assert upload["name"] == f"firewatch-findings-{incident.id}.png"
    assert "checkout" in announced["alt_txt"]
    posted = [m for m in h.fake.messages(channel) if m.get("files")]
    assert posted and posted[0]["files"][0]["id"] == upload["id"] and "dashed line" in posted[0]["text"]


def test_upload_stand_in_refuses_what_slack_would():
    from bot.devtools.fake_slack import FakeSlack

    fake = FakeSlack(strict=False)  # the methods' own checks, without the spec's argument contract in front
    assert fake.handle("files.getUploadURLExternal", {"filename": "x.png"}, "xoxb-t")[1]["error"] == "invalid_arguments"
    ok = fake.handle("files.getUploadURLExternal", {"filename": "x.png", "length": "4"}, "xoxb-t")[1]
    # completing before the bytes arrived, or after sending the wrong number of bytes, is refused
    done = fake.handle("files.completeUploadExternal", {"files": f'[{{"id": "{ok["file_id"]}"}}]'}, "xoxb-t")[1]
    assert done["error"] == "file_not_found"
    assert not fake.receive_upload(ok["file_id"], b"12345") and fake.receive_upload(ok["file_id"], b"1234")
    assert fake.handle("files.completeUploadExternal", {"files": "[]"}, "xoxb-t")[1]["error"] == "invalid_arguments"
    assert fake.handle("files.completeUploadExternal", {"files": f'[{{"id": "{ok["file_id"]}"}}]'},
                       "xoxb-t")[1]["ok"]
