"""What keeps a hostile or broken client from holding the server or reaching it from another site: the request body
read with a size limit and a deadline, and the Host header checked against the names the server is meant to answer
to (a page on another site can reach a loopback server through DNS rebinding, but not with a loopback Host)."""

import asyncio
import ipaddress
import json

from tunekit.serving.requests import RequestError

LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1"]


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name of a Host header without its port: 'localhost:8000' -> 'localhost', '[::1]:8000' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class HostCheck:
    """ASGI middleware: a request whose Host is not one of `allowed` gets a 403 JSON error."""

    def __init__(self, app, allowed: list):
        self.app = app
        self.allowed = {name.lower().strip("[]") for name in allowed}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if host_name(header) not in self.allowed:
                shown = ", ".join(sorted(self.allowed))
                body = json.dumps({"error": f"Host '{header}' is not served here; this server answers to {shown} "
                                            "(--allowed_host adds a name)"}).encode()
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def read_body(request, max_bytes: int, timeout: float) -> bytes:
    """The request body, refused (413) as soon as it passes max_bytes, and (408) when it takes longer than timeout."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, f"the request body has {declared} bytes; this server takes at most {max_bytes}")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise RequestError(413, f"the request body passed {max_bytes} bytes, the most this server takes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestError(408, f"the request body did not arrive within {timeout:g} seconds") from None
    return b"".join(chunks)
