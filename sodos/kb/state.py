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

"""The Knowledge Base state machine.

Every member applies the same commands in the same order and must end in
the same state, so nothing here reads a clock, draws a random number, does
I/O or depends on dict ordering that differs between members. Timestamps,
ids and validation come from the proposer (:mod:`sodos.kb.commands`); the
state machine only checks them again, because a command in the log may
come from a member running other code. Each command's applier is declared
in its family (:mod:`sodos.kb.sections`).

Applying never raises: a command that cannot apply is answered with
``{'ok': False, 'error': ...}`` and leaves the state untouched. (pysyncobj
would otherwise retry the entry on every tick, forever.)

The command given to :meth:`KnowledgeState.apply` belongs to the state
machine from then on (pysyncobj unpickles a fresh one for every member;
the memory backend copies it), so appliers store its parts as they are.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import marshal
from collections.abc import Callable
from typing import Any

from sodos.kb import commands
from sodos.kb import query as kbquery
from sodos.kb.sections import base
from sodos.kb.sections import registry

Result = dict[str, Any]

# How many recent command ids each member remembers to drop a retried
# command. A retry comes within [raft]commit_timeout of the original: this
# covers minutes of traffic even at a thousand writes a second. The table
# is part of every snapshot, so it is kept small (benchmarks/README.rst).
DEDUP_WINDOW = 20_000
_OK: Result = {'ok': True}

SECTIONS = (
    'federation',
    'policy',
    'sites',
    'membership',
    'monitoring',
    'alerts',
    'appliances',
    'placements',
    'actions',
    'closed_alerts',
    'images',
    'identity',
    'catalog',
    'identity_keys',
    'owners',
)

# Every member applies every command: one lookup from type to applier.
_APPLIERS: dict[str, base.Applier] = {
    name: declared.applier for name, declared in registry.DECLARED.items()
}


def empty() -> dict[str, Any]:
    return {
        'federation': {},
        'policy': {'voter_count': None, 'paused': False, 'consolidate': False},
        'sites': {},
        'membership': {'voters': [], 'lock': None},
        'monitoring': {},
        'alerts': {},
        'appliances': {},
        'placements': {},
        'actions': {},
        # The latest closed alerts, for the sites' history databases.
        'closed_alerts': {},
        # The image registry (sodos.kb.sections.images).
        'images': {},
        # The federation's identity (sodos.kb.sections.identity).
        'identity': {},
        # Every site's Keystone endpoints (sodos.kb.sections.catalog).
        'catalog': {},
        # Shared fernet keys and revocations (sodos.kb.identity_keys).
        'identity_keys': {},
        # Owners' sharing policies (sodos.kb.sections.owners).
        'owners': {},
    }


class KnowledgeState:
    """The replicated data plus what the appliers need to stay safe."""

    # A running hash of every command applied since ``digest_since``
    # (the count of commands applied when hashing began). Two members
    # that applied the same commands in the same order have the same
    # digest at the same count: the leader compares them (see
    # sodos.kb.raft.heartbeat) to detect a member whose log diverged.
    # Class defaults: states from snapshots made before the digest
    # existed start hashing where they are, and are compared only with
    # members that started at the same count.
    digest = 0
    digest_since: int | None = None

    def __init__(self) -> None:
        self.data: dict[str, Any] = empty()
        # Highest Raft term seen in a leader-only command: proof that a
        # newer leader exists, so older leaders' plans are refused.
        self.leader_term = 0
        self.applied = 0
        # Insertion-ordered (a plain dict is, and pickles smaller than an
        # OrderedDict): the oldest id is dropped first.
        self._recent: dict[str, Result | None] = {}
        self.digest_since = 0

    def apply(self, wire: Any) -> Result:
        command_id = wire.get('id') if isinstance(wire, dict) else None
        if isinstance(command_id, str) and command_id in self._recent:
            first = self._recent[command_id] or _OK
            return dict(first, duplicate=True)
        result = self._apply(wire)
        if self.digest_since is None:
            self.digest_since = self.applied
        self.applied += 1
        self.digest = fold_digest(self.digest, wire)
        if isinstance(command_id, str):
            # Most results are a bare success: remember those as None.
            self._recent[command_id] = None if result == _OK else result
            if len(self._recent) > DEDUP_WINDOW:
                del self._recent[next(iter(self._recent))]
        return result

    def _apply(self, wire: Any) -> Result:
        error = commands.check(wire)
        if error:
            return {'ok': False, 'error': error}
        term = wire.get('term')
        if wire['type'] in commands.LEADER_ONLY:
            if term < self.leader_term:
                return {
                    'ok': False,
                    'error': 'stale term %d: a leader of term %d exists'
                    % (term, self.leader_term),
                }
            self.leader_term = term
        try:
            return dict(_APPLIERS[wire['type']](self.data, wire), ok=True)
        except base.Rejected as exc:
            return {'ok': False, 'error': str(exc)}

    def read(
        self, query: kbquery.Query | str | None = None, **fields: Any
    ) -> Any:
        """A deep copy of what ``query`` asks (query.of's shorthand
        taken), safe to hand out."""
        return self.freeze(kbquery.of(query, **fields))()

    def freeze(self, query: kbquery.Query) -> Callable[[], Any]:
        """What :meth:`read` returns, taken now and unpacked later.

        The members' readers hold the log's lock only while this runs and
        unpack outside it: taking the frozen form costs a twentieth of a
        deep copy, so the thread that applies the log (and, on the
        leader, sends the heartbeats) waits that much less.
        """
        if query.section is None:
            return frozen(self.data)
        if query.section not in self.data:
            # A section added after this state was last snapshotted.
            return frozen(empty()[query.section])
        data = self.data[query.section]
        if query.key is not None:
            data = {query.key: data[query.key]} if query.key in data else {}
        if query.site is not None:
            data = only_site(query.section, data, query.site)
        return frozen(data)


def frozen(value: Any) -> Callable[[], Any]:
    """A function to call once for a deep copy of ``value`` as it is now.

    The KB holds plain data (what JSON can say): marshal copies it in a
    quarter of a deep copy's time, nearly all of it in the unpacking.
    """
    try:
        blob = marshal.dumps(value)
    except ValueError:
        # Not plain data (an object a test put in): copy it now.
        copied = copy.deepcopy(value)
        return lambda: copied
    return functools.partial(marshal.loads, blob)


# Sections a read can narrow to one site: keyed by site name, or items
# carrying a 'site'.
KEYED_BY_SITE = ('sites', 'monitoring')
ITEMS_WITH_SITE = ('actions', 'placements', 'alerts')
BY_SITE = KEYED_BY_SITE + ITEMS_WITH_SITE


def only_site(section: str, data: dict[str, Any], site: str) -> dict[str, Any]:
    """The part of ``section`` about ``site`` (not copied)."""
    if section in KEYED_BY_SITE:
        return {site: data[site]} if site in data else {}
    if section in ITEMS_WITH_SITE:
        return {k: v for k, v in data.items() if v.get('site') == site}
    raise ValueError(
        'section %s cannot be read by site (only %s)'
        % (section, ', '.join(BY_SITE))
    )


def check_query(query: kbquery.Query) -> str | None:
    """Why this state cannot answer ``query``, or None if it can."""
    if query.section is not None and query.section not in SECTIONS:
        return 'unknown KB section %r (known: %s)' % (
            query.section,
            ', '.join(SECTIONS),
        )
    if query.site is not None and query.section not in BY_SITE:
        return 'KB section %r cannot be read by site (only %s)' % (
            query.section,
            ', '.join(BY_SITE),
        )
    if query.key is not None and (
        query.section is None or not isinstance(query.key, str)
    ):
        return 'a read by key names a section and a string key'
    return None


def fold_digest(digest: int, wire: Any) -> int:
    """The running digest after ``wire``: its id (unique per command), or
    its type for the odd command without one."""
    if isinstance(wire, dict):
        key = wire.get('id') or wire.get('type')
    else:
        key = None
    h = hashlib.blake2b(digest.to_bytes(8, 'big'), digest_size=8)
    h.update(str(key).encode('utf-8', 'replace'))
    return int.from_bytes(h.digest(), 'big')
