"""A loopback Twilio REST stand-in honouring the documented request shapes of
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (form: To, From, Body) and
`.../Calls.json` (form: To, From, and one of Url or Twiml), answering 201 with the resource JSON
(https://www.twilio.com/docs/messaging/api/message-resource, https://www.twilio.com/docs/voice/api/call-resource).
Requests without HTTP Basic auth of the account SID, or missing required fields, get Twilio's 400/401 error shape."""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs

from bot.devtools.loopback import JsonRequestHandler

_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-zA-Z]+)/(Messages|Calls)\.json$")


@dataclass
class TwilioStandIn:
    account_sid: str
    auth_token: str
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def of(self, kind: str) -> list[dict]:
        return [r for r in self.requests if r["kind"] == kind]

    def start(self) -> "TwilioStandIn":
        standin = self

        class Handler(JsonRequestHandler):
            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"] or 0))
                                                     .decode()).items()}
                match = _PATH.match(self.path)
                expected = "Basic " + base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != expected or not match or match.group(1) != standin.account_sid:
                    return self.reply_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                kind = match.group(2)
                needed = ["To", "From", "Body"] if kind == "Messages" else ["To", "From"]
                if any(not form.get(n) for n in needed) or (kind == "Calls" and not (form.get("Url") or form.get("Twiml"))):
                    return self.reply_json(400, {"code": 21604, "message": "missing a required parameter", "status": 400})
                prefix = "SM" if kind == "Messages" else "CA"
                sid = f"{prefix}{len(standin.requests) + 1:032d}"
                standin.requests.append({"kind": kind, "form": form, "sid": sid})
                body = {"sid": sid, "account_sid": standin.account_sid, "to": form["To"], "from": form["From"],
                        "status": "queued", "date_created": "Thu, 03 Dec 2026 10:00:00 +0000"}
                if kind == "Messages":
                    body["body"] = form["Body"]
                self.reply_json(201, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
