"""Real receivers on 127.0.0.1 for delivery tests: an aiosmtpd SMTP server and an HTTP webhook endpoint.

Both drop a repeat of an idempotency key they already accepted, as the docs ask receivers to, and keep every raw
arrival too, so a test can tell "delivered twice" from "accepted twice".
"""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """An SMTP server: ``arrivals`` every message received, ``inbox`` one per idempotency key."""

    def __init__(self, *, on_message=None) -> None:
        self.arrivals: list[dict] = []
        self.inbox: dict[str, dict] = {}
        self.on_message = on_message  # called with the arrival, before the server answers 250
        self.refuse: set[str] = set()  # recipients answered 550
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        mail = message_from_bytes(envelope.content)
        arrival = {"key": mail["Idempotency-Key"], "message_id": mail["Message-ID"], "to": envelope.rcpt_tos,
                   "subject": mail["Subject"],
                   "body": mail.get_payload(decode=True).decode() if not mail.is_multipart() else None}
        with self.lock:
            self.arrivals.append(arrival)
            self.inbox.setdefault(arrival["key"], arrival)
        if self.on_message is not None:
            self.on_message(arrival)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class WebhookSink:
    """An HTTP receiver: answers ``fail_first`` requests with 503, then 200; records raw arrivals and, once
    accepted, one per ``Idempotency-Key``. Paths in ``gone`` answer 410 (a final refusal)."""

    def __init__(self) -> None:
        self.arrivals: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.fail_first = 0
        self.gone: set[str] = set()
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrival = {"key": self.headers.get("Idempotency-Key"), "path": self.path, "raw": raw,
                           "headers": dict(self.headers), "json": json.loads(raw)}
                with sink.lock:
                    sink.arrivals.append(arrival)
                    if self.path in sink.gone:
                        status = 410
                    elif sink.fail_first > 0:
                        sink.fail_first -= 1
                        status = 503
                    else:
                        status = 200
                        sink.accepted.setdefault(arrival["key"], arrival)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
