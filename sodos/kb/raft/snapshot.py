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

"""Snapshots written by read-only members, fit to be loaded by voters.

pysyncobj 0.3.17 stores the cluster in every snapshot as "the other
voters plus this node". A read-only member has no node of its own, so
its snapshots list ``None`` among the voters. It loads them itself
(``None`` is its own node, filtered out), but once it is promoted the
same snapshot is loaded by a voter, which fails on ``None`` half-way
through ("failed to load full dump") and skips the membership and code
version the snapshot carries; and a promoted member that leads sends that
snapshot to every member it catches up. So every snapshot is written with
the voters only.
"""

from __future__ import annotations

from typing import Any

# Private attribute of pysyncobj 0.3.17 (pinned in requirements.txt).
_SERIALIZER = '_SyncObj__serializer'


def write_voters_only(obj: Any) -> None:
    """Make ``obj`` (a SyncObj) leave ``None`` out of its snapshots."""
    serializer = getattr(obj, _SERIALIZER, None)
    if serializer is None or getattr(serializer, '_sodos_voters_only', False):
        return
    original = serializer.serialize

    def serialize(data: Any, last_id: Any) -> Any:
        state, last, before_last, cluster = data
        voters = {node for node in cluster if node is not None}
        return original((state, last, before_last, voters), last_id)

    serializer.serialize = serialize
    serializer._sodos_voters_only = True
