"""A pure ASGI middleware that refuses request bodies over a size limit (413), declared or not.

A declared ``Content-Length`` over the limit is refused before a byte is read. A body sent
without one (chunked) is counted as it streams: at the first chunk over the limit the client
gets 413 and the application sees the client gone (``http.disconnect``), so no handler parses a
partial body and nothing it sends afterwards reaches the client.
"""

from __future__ import annotations

import json


class BodySizeLimit:
    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                return await self._refuse(send, 413 if value.isdigit() else 400)
        seen = 0
        refused = False
        started = False

        async def limited_receive():
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send, 413)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if refused:
                return  # the 413 has been sent; the handler's answer to a cut body is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise  # a real error: the server's error handling answers it
            # the handler failed on the cut body (client gone); the client already has its 413

    async def _refuse(self, send, status: int) -> None:
        text = f"request body over the {self.max_bytes}-byte limit" if status == 413 else "Content-Length is not a number"
        body = json.dumps({"detail": text}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
