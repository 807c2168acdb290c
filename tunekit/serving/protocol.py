"""uvicorn's HTTP/1.1 protocol with a deadline for request headers, which uvicorn lacks: a client that opens a
connection and sends half its headers (or none) is cut off after --header_timeout seconds, so hundreds of such
connections cannot hold the server's sockets. Idle keep-alive connections are uvicorn's own timeout_keep_alive;
a slow body is the app's body timeout (server.py).

It also answers a request that is not valid HTTP (uvicorn's send_400_response) with a JSON error, like every other
error of the server. The protocol reads uvicorn's `conn` (its h11 connection), `cycle` (the current request) and
`loop`, and overrides `send_400_response`: tunekit.compat lists them, and its test notices when an upgrade renames
one."""

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from tunekit import compat

CLOSING_RESPONSE = (b"HTTP/1.1 %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: %d\r\n\r\n%s")


def guarded_protocol(header_timeout: float) -> type:
    """The protocol class to give uvicorn.Config(http=...)."""

    class HeaderDeadlineProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's own signature
            super().connection_made(transport)
            self.awaiting_since, self.seen_cycle = self.loop.time(), None
            self.watchdog = self.loop.call_later(min(1.0, header_timeout), self.check_headers)

        def check_headers(self) -> None:
            """Every second: a connection waiting for the headers of a request for longer than the deadline is
            answered 408 and closed; one that has received a request since the last look starts a new wait."""
            if self.transport.is_closing():
                return
            conn, cycle = compat.uvicorn_connection(self)
            now = self.loop.time()
            if cycle is not self.seen_cycle or conn.their_state is not h11.IDLE:
                self.awaiting_since, self.seen_cycle = now, cycle
            elif now - self.awaiting_since > header_timeout:
                self.close_with(b"408 Request Timeout",
                                f"the request headers did not arrive within {header_timeout:g} seconds")
                return
            self.watchdog = self.loop.call_later(min(1.0, header_timeout), self.check_headers)

        def send_400_response(self, msg: str) -> None:  # uvicorn's answers text/plain: every error here is JSON
            self.close_with(b"400 Bad Request", f"the request is not valid HTTP/1.1 ({msg.rstrip('.')})")

        def close_with(self, status: bytes, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self.transport.write(CLOSING_RESPONSE % (status, len(body), body))
            self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self.watchdog.cancel()
            super().connection_lost(exc)

    return HeaderDeadlineProtocol
