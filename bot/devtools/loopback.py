"""Small loopback HTTP stand-ins (the demo's GitHub, the tests' Twilio): a quiet request handler that answers JSON."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class JsonRequestHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing (the caller reports what happened) and answers with JSON bodies."""

    def log_message(self, *args) -> None:
        pass

    def reply_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
