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

"""What a member answers on its control channel (see control.py)."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING
from typing import Any

from sodos import exception
from sodos.kb.raft import control
from sodos.kb.raft import heartbeat

LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sodos.kb.raft.backend import RaftBackend


def handlers(backend: RaftBackend) -> dict[str, control.Handler]:
    return {
        name: functools.partial(func, backend)
        for name, func in (
            ('hello', on_hello),
            ('heartbeat', on_heartbeat),
            ('promote', on_promote),
            ('status', on_status),
            ('leave', on_leave),
        )
    }


def on_hello(backend: RaftBackend, args: dict[str, Any]) -> dict[str, Any]:
    site, address = str(args.get('site')), str(args.get('address'))
    status = backend.runner.status()
    if not status.get('voters'):
        raise exception.NotReady(
            'this member is starting; ask again in a moment'
        )
    for name, known in backend.read('sites').items():
        if known['status'] == 'left':
            continue
        if name == site and known['address'] != address:
            raise exception.SodosError(
                'site name %s is already used by the member at %s'
                % (site, known['address'])
            )
        if name != site and known['address'] == address:
            raise exception.SodosError(
                'address %s is already used by site %s' % (address, name)
            )
    return {
        'federation_id': backend.read('federation').get('id'),
        'voters': status.get('voters', []),
        'leader': status.get('leader'),
    }


def on_heartbeat(backend: RaftBackend, args: dict[str, Any]) -> dict[str, Any]:
    status = backend.runner.status()
    if not status.get('is_leader'):
        return {'is_leader': False, 'leader': status.get('leader')}
    site = str(args.get('site'))
    applied = args.get('applied')
    if not isinstance(applied, int) or isinstance(applied, bool):
        applied = 0
    backend.heartbeats.record(site, applied)
    reply: dict[str, Any] = {'is_leader': True, 'voters': status['voters']}
    theirs = args.get('kb')
    if isinstance(theirs, dict) and backend.runner.diverges(theirs):
        count = int(theirs['count'])
        if backend.heartbeats.mark_diverged(site, count):
            LOG.error(
                'raft: the Knowledge Base of site %s diverged from the '
                "leader's: after %d commands its digest differs",
                site,
                count,
            )
        reply['diverged'] = count
    else:
        backend.heartbeats.mark_diverged(site, None)
    table = backend.heartbeats
    stalled = table.stalled_for(site, status['commit_index'])
    if stalled < heartbeat.STALLED_AFTER:
        table.mark('behind', site, None)
        return reply
    if table.mark('behind', site, applied):
        LOG.error(
            'raft: site %s has applied nothing for %.0f s: stuck at index '
            '%s while the leader committed %d',
            site,
            stalled,
            applied,
            status['commit_index'],
        )
    reply['behind'] = applied
    return reply


def on_promote(backend: RaftBackend, args: dict[str, Any]) -> dict[str, Any]:
    voters = args.get('voters')
    if not isinstance(voters, list) or backend.address not in voters:
        raise exception.SodosError('promote: this member is not in voters')
    backend.follow_leader([str(v) for v in voters])
    return {'voter': backend.runner.voter}


def on_status(backend: RaftBackend, args: dict[str, Any]) -> dict[str, Any]:
    return {
        'member': backend.status().to_dict(),
        'federation': backend.read('federation'),
        'sites': backend.read('sites'),
        'liveness': backend.liveness(),
        'problem': backend.runner.problem or backend.problem,
    }


def on_leave(backend: RaftBackend, args: dict[str, Any]) -> dict[str, Any]:
    if args.get('site') != backend.site:
        raise exception.SodosError('leave: ask the leaving site itself')
    backend.propose('site.leave', {'site': backend.site})
    return {'leaving': True}
