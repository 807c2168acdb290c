"""uvicorn's HTTP/1.1 protocol with a deadline for request headers, which uvicorn lacks: a client that opens a
connection and sends half its headers (or none) is cut off after --header_timeout seconds, so hundreds of such
connections cannot hold the server's sockets. Idle keep-alive connections are uvicorn's own timeout_keep_alive;
a slow body is the app's body timeout (server.py).

The protocol reads two attributes of uvicorn's class, `conn` (its h11 connection) and `cycle` (the current
request), reached through tunekit.compat, whose test notices when an upgrade renames them."""

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from tunekit import compat

TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: %d\r\n\r\n%s")


def guarded_protocol(header_timeout: float) -> type:
    """The protocol class to give uvicorn.Config(http=...)."""

    class HeaderDeadlineProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:
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
                body = (b'{"error": "the request headers did not arrive within %d seconds"}' % header_timeout)
                self.transport.write(TIMEOUT_RESPONSE % (len(body), body))
                self.transport.close()
                return
            self.watchdog = self.loop.call_later(min(1.0, header_timeout), self.check_headers)

        def connection_lost(self, exc: Exception | None) -> None:
            self.watchdog.cancel()
            super().connection_lost(exc)

    return HeaderDeadlineProtocol
