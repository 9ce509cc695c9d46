"""A local stand-in for Slack's Socket Mode WebSocket endpoint (RFC 6455 over plain TCP, loopback only).

`apps.connections.open` on the fake Web API hands out `url`; the server greets each client with `hello`, lets a
test push envelopes (slash commands, interactions, events) and records what the app sends back (acks)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def stop(self) -> None:
        self._stop = True
        self.sock.close()
        for c in list(self.clients):
            try:
                c.close()
            except OSError:
                pass

    def wait_connected(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not self.clients:
            if time.monotonic() > deadline:
                raise TimeoutError("no Socket Mode client connected")
            time.sleep(0.05)

    def send(self, envelope: dict[str, Any]) -> None:
        data = json.dumps(envelope).encode()
        with self.lock:
            for c in list(self.clients):
                try:
                    c.sendall(_frame(0x1, data))
                except OSError:
                    self.clients.remove(c)

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for m in self.received:
                    if m.get("envelope_id") == envelope_id:
                        return m
            time.sleep(0.05)
        raise TimeoutError(f"no ack for envelope {envelope_id}")

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        headers = {}
        for line in request.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode()).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FIREWATCH"},
                 "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 3600}}
        conn.sendall(_frame(0x1, json.dumps(hello).encode()))
        with self.lock:
            self.clients.append(conn)
        buffer = b""
        try:
            while not self._stop:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while True:
                    parsed = _parse(buffer)
                    if parsed is None:
                        break
                    opcode, payload, buffer = parsed
                    if opcode == 0x1:
                        with self.lock:
                            self.received.append(json.loads(payload))
                    elif opcode == 0x9:
                        conn.sendall(_frame(0xA, payload))
                    elif opcode == 0x8:
                        return
        except OSError:
            return
        finally:
            with self.lock:
                if conn in self.clients:
                    self.clients.remove(conn)


def _frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def _parse(buf: bytes):
    """One client frame (masked) from `buf`: (opcode, payload, rest), or None if incomplete."""
    if len(buf) < 2:
        return None
    opcode = buf[0] & 0x0F
    masked = buf[1] & 0x80
    n = buf[1] & 0x7F
    i = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n = struct.unpack("!H", buf[2:4])[0]
        i = 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n = struct.unpack("!Q", buf[2:10])[0]
        i = 10
    mask = b""
    if masked:
        if len(buf) < i + 4:
            return None
        mask = buf[i:i + 4]
        i += 4
    if len(buf) < i + n:
        return None
    payload = buf[i:i + n]
    if masked:
        payload = bytes(b ^ mask[j % 4] for j, b in enumerate(payload))
    return opcode, payload, buf[i + n:]
