# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Bounded frames on the Raft port.

pysyncobj 0.3.17 reads a 4-byte length, then buffers whatever follows, in
the member's only thread, until that many bytes have come, and only then
decrypts: anyone who can reach the port, with no password, could make a
member buffer gigabytes (8 MB at a follower forced an election, 30 MB at
a leader stalled it ~34 s). A frame that fails to decrypt is dropped with
the connection and nothing logged.

:class:`BoundedTcpConnection` refuses a frame whose declared length is
negative or over ``[raft]max_frame_bytes`` before buffering it, reads at
most :data:`READ_PER_TICK` bytes per connection per tick (a fast sender
cannot hold the thread), and logs every dropped connection (rate-limited
per peer). pysyncobj's frames are small: entries go in batches of
``appendEntriesBatchSizeBytes`` and snapshots in chunks of
``logCompactionBatchSize`` (64 KiB each by default); only one command
larger than the limit would be refused, and sodos's commands are kilobytes.

pysyncobj drops a connection it has read nothing from for
``connectionTimeout`` ([raft]connection_timeout), and checks this before
it reads: a member whose tick took longer (a fresh member appending and
applying a long log on a loaded machine) dropped its connection to the
leader with the leader's bytes waiting in the socket, and lost every
batch in flight; it then caught up from a probe again, and again. A
connection whose peer has bytes waiting is not timed out here (a peer
that stopped sending still is).

pysyncobj also judges a connection by its silence alone, just before a
send: one silent for longer in both directions, as between two voters
all through a leader's term, was dropped with the first message sent on
it. That message was lost: a voter that stood for election after a
quiet term reached none of the voters it only had such connections
with, and the election waited for a second timeout (measured: three
leader losses of three, 30 sites). Here a connected peer is timed out
only when it has not answered for ``connectionTimeout`` since this member
sent it something.
:func:`install` makes pysyncobj build its connections from this class
(no upstream fix as of 0.3.17).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from typing import Any

from pysyncobj import tcp_connection
from pysyncobj import tcp_server
from pysyncobj import transport
from pysyncobj.monotonic import monotonic

LOG = logging.getLogger(__name__)

DEFAULT_MAX_FRAME = 4 * 1024 * 1024
READ_PER_TICK = 1024 * 1024
LOG_EVERY = 10.0

_installed = threading.Lock()
_logged: dict[str, float] = {}


class BoundedTcpConnection(tcp_connection.TcpConnection):
    """A TcpConnection that bounds what a peer can make it buffer."""

    max_frame = DEFAULT_MAX_FRAME
    # pysyncobj's: when this connection last read from its peer.
    _TcpConnection__lastReadTime: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._read_this_tick = 0
        self._peer = '?'
        # When this member first sent what the peer has not answered
        # since (None: nothing, or all of it answered).
        self._unanswered_since: float | None = None
        super().__init__(*args, **kwargs)
        self._remember_peer()

    def connect(self, host: str, port: int) -> bool:
        self._peer = '%s:%s' % (host, port)
        return bool(super().connect(host, port))

    def _remember_peer(self) -> None:
        sock = self._TcpConnection__socket
        if sock is not None:
            try:
                self._peer = '%s:%s' % sock.getpeername()[:2]
            except OSError:
                pass

    def _TcpConnection__tryReadBuffer(self) -> None:
        self._read_this_tick = 0
        super()._TcpConnection__tryReadBuffer()

    def _TcpConnection__processRead(self) -> bool:
        # Leave the rest in the socket: the poller reports it again next
        # tick, and the other connections are served meanwhile.
        if self._read_this_tick >= READ_PER_TICK:
            return False
        before = len(self._TcpConnection__readBuffer)
        more = bool(super()._TcpConnection__processRead())
        buffered = self._TcpConnection__readBuffer
        self._read_this_tick += len(buffered) - before
        if len(buffered) >= 4:
            (length,) = struct.unpack('i', buffered[:4])
            if not 0 <= length <= self.max_frame:
                self._drop(
                    'a frame of %d bytes announced (the limit is %d, '
                    '[raft]max_frame_bytes)' % (length, self.max_frame)
                )
                return False
        return more

    def send(self, message: Any) -> None:
        waiting = self._unanswered_since
        if waiting is None or waiting <= self._TcpConnection__lastReadTime:
            self._unanswered_since = monotonic()
        super().send(message)

    def disconnect(self) -> None:
        self._unanswered_since = None
        super().disconnect()

    def _TcpConnection__processConnectionTimeout(self) -> None:
        now = monotonic()
        last_read = self._TcpConnection__lastReadTime
        if self.state == tcp_connection.CONNECTION_STATE.CONNECTED:
            waiting = self._unanswered_since
            if waiting is not None and waiting <= last_read:
                waiting = self._unanswered_since = None
            if (
                waiting is None
                or now - waiting <= self._TcpConnection__timeout
            ):
                return  # Idle both ways, or not waited on for long.
            last_read = waiting
        if now - last_read > self._TcpConnection__timeout:
            if self._peer_has_sent():
                # Heard from, though not read yet: this member was busy.
                self._TcpConnection__lastReadTime = now
                self._unanswered_since = None
                return
            self.disconnect()

    def _peer_has_sent(self) -> bool:
        """Whether bytes from the peer wait in the socket (not an end)."""
        sock = self._TcpConnection__socket
        if sock is None:
            return False
        try:
            waiting = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:  # nothing waiting (EAGAIN), or a broken socket
            return False
        return bool(waiting)

    def _TcpConnection__processParseMessage(self) -> Any:
        had_frame = len(self._TcpConnection__readBuffer) >= 4
        message = super()._TcpConnection__processParseMessage()
        if (
            message is None
            and had_frame
            and self.state == tcp_connection.CONNECTION_STATE.DISCONNECTED
        ):
            self._log_drop(
                'a message that failed authentication or decoding (a '
                'wrong [raft]password, or not a member)'
            )
        return message

    def _drop(self, why: str) -> None:
        self._log_drop(why)
        self.disconnect()

    def _log_drop(self, why: str) -> None:
        host = self._peer.rpartition(':')[0] or self._peer
        now = monotonic()
        if now - _logged.get(host, -LOG_EVERY) < LOG_EVERY:
            return
        _logged[host] = now
        LOG.warning(
            'raft: dropped the connection with %s: %s', self._peer, why
        )


def install(max_frame: int = DEFAULT_MAX_FRAME) -> None:
    """Make pysyncobj's transport and server use BoundedTcpConnection."""
    with _installed:
        BoundedTcpConnection.max_frame = max_frame
        for module in (transport, tcp_server):
            if module.TcpConnection is not BoundedTcpConnection:
                module.TcpConnection = BoundedTcpConnection
