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

"""How a member finds the federation it joins: it asks the members
named in ``[raft]join`` for the current voters and the leader."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING
from typing import Any

from pysyncobj.monotonic import monotonic

from sodos import exception
from sodos.kb.raft import control

if TYPE_CHECKING:
    from sodos.kb.raft.backend import RaftBackend

LOG = logging.getLogger(__name__)


def ask(
    peers: tuple[str, ...] | list[str],
    credentials: Any,
    site: str,
    address: str,
    stopping: threading.Event,
    patience: float = 0.0,
) -> tuple[list[str], str | None]:
    """The voters, and the leader the member asked knows of (if any),
    from the first of ``peers`` that answers.

    With ``patience``, keep asking for that long: sites of a new
    federation are often started together, and the member named may not
    answer for a few seconds. ``stopping`` ends the wait.
    """
    deadline = monotonic() + patience
    while True:
        errors = []
        for peer in peers:
            try:
                reply = control.call(
                    peer, credentials, 'hello', site=site, address=address
                )
            except (exception.PeerUnreachable, exception.NotReady) as exc:
                errors.append(str(exc))
                continue
            voters = list(reply['voters'])
            LOG.info(
                'raft: joining federation %s through %s; voters: %s',
                reply.get('federation_id'),
                peer,
                ', '.join(voters),
            )
            leader = reply.get('leader')
            return voters, str(leader) if leader else None
        if monotonic() >= deadline or stopping.is_set():
            raise exception.PeerUnreachable(
                'no member named in [raft]join answered: ' + '; '.join(errors)
            )
        LOG.info('raft: waiting for a member to answer: %s', '; '.join(errors))
        stopping.wait(1.0)


def rediscover(backend: RaftBackend) -> None:
    """Ask the members this one knows for the voters, and follow.

    For a read-only member whose voters were all replaced while it
    was away, and for a voter that was removed while it could not
    hear the leader (a removed voter ignores its own removal).
    """
    status = backend.runner.status()
    known = set(status.get('voters', [])) | set(backend.settings.join)
    peers = sorted(known - {backend.address})
    try:
        voters, leader = backend.discover(peers)
    except exception.SodosError as exc:
        LOG.warning('raft: no leader and no member answers: %s', exc)
        return
    if status.get('voter'):
        if backend.address not in voters:
            backend.follow_leader(voters)
        return
    # A read-only member's own address may be among its log's voters
    # (it was one): only the others are the voters it follows.
    following = sorted(set(status.get('voters', [])) - {backend.address})
    if sorted(voters) != following or backend.address in voters:
        backend.adopt_voters(voters)
    elif leader is not None:
        backend.health.leaderless(leader)
