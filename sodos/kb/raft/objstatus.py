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

"""What a pysyncobj SyncObj says of itself, in sodos's words.

Called from the runner's tick thread only (sodos.kb.raft.runner): a
SyncObj is not safe to read from another thread.
"""

from __future__ import annotations

from typing import Any

# pysyncobj's state number of a leader, and of a connected partner.
LEADER_STATE = 2
CONNECTED = 2


def status(obj: Any, address: str, voter: bool) -> dict[str, Any]:
    """The member's status from ``obj.getStatus()`` and its partners."""
    raw = obj.getStatus()
    leader = raw.get('leader')
    voters = sorted(
        [n.address for n in obj.otherNodes] + ([address] if voter else [])
    )
    return {
        'voter': voter,
        'ready': obj.isReady(),
        'leader': getattr(leader, 'address', None),
        'is_leader': raw['state'] == LEADER_STATE,
        'term': raw['raft_term'],
        'has_quorum': raw['has_quorum'],
        'commit_index': raw['commit_idx'],
        'last_applied': raw['last_applied'],
        'leader_commit_index': raw.get('leader_commit_idx'),
        'voters': voters,
        'connected': sorted(
            _per_partner(raw, 'partner_node_status_server_', CONNECTED)
        ),
        'match_index': _per_partner(raw, 'match_idx_server_'),
        'readonly_count': raw.get('readonly_nodes_count', 0),
    }


def _per_partner(
    raw: dict[str, Any], prefix: str, only: Any = None
) -> dict[str, Any]:
    """{partner address: value} of the keys ``prefix + address``; with
    ``only``, just the partners whose value is that."""
    return {
        key[len(prefix) :]: value
        for key, value in raw.items()
        if key.startswith(prefix) and (only is None or value == only)
    }


def persisted_commit(obj: Any) -> int:
    """The commit index a member read from its journal at start, no
    further than its log reaches (a torn tail cut off at start)."""
    # Private attribute of pysyncobj 0.3.17 (pinned): the log's entries
    # as (command, index, term), the last one being the log's end.
    log = getattr(obj, '_SyncObj__raftLog', None)
    last = log[-1][1] if log else 0
    return min(int(obj.raftCommitIndex), int(last))
