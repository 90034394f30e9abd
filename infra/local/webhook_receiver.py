"""A chat webhook on loopback: records every POST it receives, as Slack, Teams and a generic
receiver would get them, and answers the way each service does (Slack ``200 ok``, Teams
Workflows ``202``, others ``200``).

The demo and the tests point alert targets at it (``http://127.0.0.1:PORT/slack/...``).
``fail(path_prefix, status, times)`` makes it refuse deliveries to see retries and alarms.
It binds 127.0.0.1 only, on a free port, and ``webhook_receiver()`` always shuts it down.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1_000_000


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def kind(self) -> str:
        return self.path.strip("/").split("/", 1)[0]


@dataclass
class WebhookReceiver:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    _failures: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    def fail(self, path_prefix: str, status: int = 500, times: int = 1_000_000) -> None:
        """Answer ``status`` to the next ``times`` POSTs under ``path_prefix``."""
        with self._lock:
            self._failures[path_prefix] = [status, times]

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    def delivered(self, kind: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status < 300 and (kind is None or r.kind == kind)]

    def _answer(self, path: str) -> int:
        with self._lock:
            for prefix, rule in self._failures.items():
                if path.startswith(prefix) and rule[1] > 0:
                    rule[1] -= 1
                    return rule[0]
        kind = path.strip("/").split("/", 1)[0]
        return 202 if kind == "teams" else 200


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            status = receiver._answer(self.path)
            with receiver._lock:
                receiver.received.append(Received(self.path, dict(self.headers.items()), body, status))
            reply = b"ok" if status == 200 else b"" if status == 202 else b"no_service"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextlib.contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver("127.0.0.1", 0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
