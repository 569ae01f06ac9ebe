"""Request ids: taken from a sane incoming `X-Request-Id` or made up, echoed, and logged."""

from __future__ import annotations

import re
import uuid

from shared.logs import REQUEST_ID
from shared.observability import Asgi, Message, Receive, Scope, Send

HEADER = "x-request-id"
# What a proxy or provider plausibly sends; anything else (too long, spaces, control
# characters) is replaced, so a client cannot smuggle text into logs or Kafka headers.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,63}")


def sane_request_id(value: str | None) -> str | None:
    """The value if it is a usable request id, else None."""
    if value is not None and _SANE.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    """A fresh, unguessable id in the same 32-hex-digit form the events have always carried."""
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: gives each request an id, puts it in the log context and the response.

    The id is in `scope["state"]["request_id"]` (so `request.state.request_id`) for handlers
    that pass it on, such as ingest putting it on the Kafka record.
    """

    def __init__(self, app: Asgi) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the id, serve the request inside its log context, and echo it back."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == HEADER.encode():
                incoming = value.decode("latin-1")
                break
        request_id = sane_request_id(incoming) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != HEADER.encode()]
                message["headers"] = [*headers, (HEADER.encode(), raw_id)]
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
