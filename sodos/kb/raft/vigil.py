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

"""A voter stands for election as soon as its leader's process is gone.

When a process dies (a crash, an out-of-memory kill, SIGKILL), the
kernel closes its connections: every member sees its connection to that
leader drop within a round trip, and a new connection to the leader's
Raft port is refused, since nothing listens there any more. Raft's
followers would still wait out an election timeout after the leader's
last word, several seconds at a hundred sites (examples/edge-100.yaml:
5 to 12) so that a loaded leader's late heartbeats depose no one.

A voter whose connection to its leader drops therefore knocks: it tries
one connection of its own to the leader's address, without blocking its
tick thread. Refused, it stands as a voter told by the gossip does
(:func:`election.stand_soon`), the voters one after another in the order
of their addresses, but without waiting for the leader's silence: a
refusal is not a late heartbeat. Accepted, or unanswered (a host that
vanished, a partition, a leader that only dropped one connection), it
changes nothing, and the gossip or Raft's timeout decide as before.
Upstream pysyncobj (0.3.17) has no such path.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from pysyncobj.monotonic import monotonic
from pysyncobj.poller import POLL_EVENT_TYPE

from sodos.kb.raft import election
from sodos.kb.raft.following import FollowingSyncObj

LOG = logging.getLogger(__name__)

# Seconds a knock may wait for its answer: a host that does not answer at
# all is no evidence either way, and the socket is closed.
KNOCK_PATIENCE = 5.0
_PENDING = (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY)


class Knock:
    """One non-blocking connection to ``node``'s address, watched by
    ``poller``: ``refused`` is set once the address refused it, ``done``
    once the answer came (or :meth:`close` gave up)."""

    def __init__(self, poller: Any, node: Any) -> None:
        self.node = node
        self.started = monotonic()
        self.refused = False
        self.done = False
        self._poller = poller
        self._sock: socket.socket | None = None
        try:
            ip = node.ip
            family = socket.AF_INET6 if ':' in ip else socket.AF_INET
            self._sock = socket.socket(family, socket.SOCK_STREAM)
            self._sock.setblocking(False)
            err = self._sock.connect_ex((ip, node.port))
        except (OSError, TypeError, ValueError):
            # Not resolvable, no socket left: nothing learnt.
            self.close()
            return
        if err in _PENDING:
            poller.subscribe(
                self._sock.fileno(),
                self._answered,
                POLL_EVENT_TYPE.WRITE | POLL_EVENT_TYPE.ERROR,
            )
            return
        self._finish(err)

    def _answered(self, descr: int, event: int) -> None:
        sock = self._sock
        err = (
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if sock is not None
            else 0
        )
        self._finish(err)

    def _finish(self, err: int) -> None:
        self.refused = err == errno.ECONNREFUSED
        self.close()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self.done = True
        if sock is None:
            return
        try:
            self._poller.unsubscribe(sock.fileno())
        except (KeyError, OSError, ValueError):
            pass  # Answered at once: never subscribed.
        sock.close()


class VigilantSyncObj(FollowingSyncObj):
    """A SyncObj whose voters knock when their leader's connection drops,
    and stand at once if the knock is refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before the base's __init__: see EagerSyncObj.
        self._knock: Knock | None = None
        super().__init__(*args, **kwargs)

    def _SyncObj__onNodeDisconnected(self, node: Any) -> None:
        super()._SyncObj__onNodeDisconnected(node)
        if (
            self._SyncObj__selfNode is not None
            and not self._isLeader()
            and node == self._SyncObj__raftLeader
            and (self._knock is None or self._knock.done)
        ):
            self._knock = Knock(self._poller, node)
            self._knocked()

    def _onTick(self, timeToWait: float = 0.0) -> None:
        super()._onTick(timeToWait)
        knock = self._knock
        if knock is None:
            return
        if not knock.done and monotonic() - knock.started > KNOCK_PATIENCE:
            knock.close()
        self._knocked()

    def _knocked(self) -> None:
        knock = self._knock
        if knock is None or not knock.done:
            return
        self._knock = None
        if not knock.refused:
            return
        leader = knock.node.address
        conf = self._SyncObj__conf
        turn = election.slot(conf.appendEntriesPeriod)
        if election.stand_soon(
            self, leader, 0.0, turn / 4, turn=turn, certain=True
        ):
            LOG.warning(
                'raft: the leader %s refuses connections: its process is gone',
                leader,
            )

    def _doDestroy(self) -> None:
        if self._knock is not None:
            self._knock.close()
        super()._doDestroy()
