"""Push: ntfy-style HTTP POST (respx stands in for the ntfy server) and any Apprise URL (here Apprise's `json://`
posting to a loopback server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import respx

from bot.contacts.domain.rules import Method
from bot.contacts.senders import Notice, SenderSettings, send

NOTICE = Notice("Firewatch page: [sev1] Checkout 500s 🔥", "Checkout 500s above 5%\nPage 3 (payments).")


@respx.mock
def test_ntfy_push_carries_title_priority_and_body_and_a_4xx_is_a_failure():
    topic = respx.post("https://ntfy.example.com/ana-7f3a").mock(side_effect=[httpx.Response(200),
                                                                              httpx.Response(403)])
    ok = send(SenderSettings(), Method("push", "https://ntfy.example.com/ana-7f3a"), NOTICE)
    request = topic.calls[0].request
    assert ok.ok and request.headers["Priority"] == "urgent"
    assert request.headers["Title"].startswith("Firewatch page: [sev1] Checkout 500s")  # the emoji cannot be a header
    assert request.content.decode() == NOTICE.text
    refused = send(SenderSettings(), Method("push", "https://ntfy.example.com/ana-7f3a"), NOTICE)
    assert not refused.ok and "403" in refused.detail


def test_apprise_url_is_delivered_through_apprise():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        delivery = send(SenderSettings(), Method("push", f"json://127.0.0.1:{port}/notify"), NOTICE)
    finally:
        server.shutdown()
        server.server_close()
    assert delivery.ok, delivery.detail
    assert received and received[0]["title"] == NOTICE.title and "Checkout 500s above 5%" in received[0]["message"]


def test_an_url_apprise_does_not_know_is_a_failure_not_a_crash():
    delivery = send(SenderSettings(), Method("push", "nosuchscheme://x"), NOTICE)
    assert not delivery.ok and "Apprise does not understand" in delivery.detail
