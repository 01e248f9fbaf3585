"""Connections from clients that cannot be trusted: each request must arrive whole in time.

uvicorn closes a keep-alive connection that stays idle after a response, but holds a new
connection that sends nothing (or trickles a request head a byte at a time) for as long as
the client likes: a few hundred such sockets would exhaust the server. This protocol gives
every request ``REQUEST_TIMEOUT`` seconds from the connection (or the previous response)
until its head and body are in; a client still sending then is cut off. The handler's own
time (storing the call) does not count: the request is whole by then.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_TIMEOUT = 10.0


class GuardedH11Protocol(H11Protocol):
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(REQUEST_TIMEOUT, self._late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _late(self) -> None:
        self._deadline = None
        if self.conn.their_state is not h11.DONE and not self.transport.is_closing():
            self.transport.close()
