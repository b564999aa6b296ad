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

"""Commands: the only way to change the Knowledge Base.

A command is made and validated by its proposer, which stamps it with a
unique id, a wall-clock timestamp, its origin site and (for commands only
the leader may make) the Raft term it was made in. The replicated appliers
(:mod:`sodos.kb.sections`) then need no clock, no randomness and no I/O: every
member applies the same bytes to the same state and gets the same result.

Every command carries ``v``, the oldest schema version that understands
it (the version that added it: :attr:`base.Declared.since`), so a member
running older code refuses a command it does not understand instead of
misreading it; the proposer does not propose such a command until every
site runs code that knows it (:mod:`sodos.kb.versions`).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import fastjsonschema

from sodos import exception
from sodos.kb import schemas
from sodos.kb.sections import federation
from sodos.kb.sections import registry

# The newest schema version this code understands; each site publishes it
# when it registers. 2 added appliance.update and owner.reclaim.
SCHEMA_VERSION = 2

# Commands that only the AnalysePlan/KnowMon beside the Raft leader may
# propose (see sodos.kb.sections.base.Declared). They carry the term they
# were made in; the applier refuses one made in a term older than the
# newest it has seen (a deposed leader may believe it leads for a while:
# "A deposed leader" in doc/source/contributor/design-notes.rst).
LEADER_ONLY = frozenset(
    name
    for name, declared in registry.DECLARED.items()
    if declared.leader_only
)

_ENVELOPE_SCHEMA: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'v': {'type': 'integer', 'minimum': 1},
        'id': {'type': 'string', 'pattern': '^[0-9a-f]{32}$'},
        'type': {'type': 'string', 'enum': sorted(registry.DECLARED)},
        'ts': {'type': 'number', 'minimum': 0},
        'origin': schemas.NAME,
        'term': {'type': ['integer', 'null'], 'minimum': 0},
        'args': {'type': 'object'},
    },
    'required': ['v', 'id', 'type', 'ts', 'origin', 'args'],
    'additionalProperties': False,
}

# fastjsonschema compiles each schema to Python code: ~4 us a command
# against ~60 us for jsonschema, and every member checks every command.
_ENVELOPE = fastjsonschema.compile(_ENVELOPE_SCHEMA)
_ARGS = {
    name: fastjsonschema.compile(declared.schema)
    for name, declared in registry.DECLARED.items()
}
_POLICY = {
    key: fastjsonschema.compile(s)
    for key, s in federation.POLICY_VALUES.items()
}


@dataclasses.dataclass(frozen=True)
class Command:
    type: str
    args: dict[str, Any]
    id: str
    ts: float
    origin: str
    term: int | None = None
    v: int = SCHEMA_VERSION

    def to_wire(self) -> dict[str, Any]:
        """The plain dict that travels in the Raft log and over RPC.

        Built by hand: ``dataclasses.asdict`` deep-copies, which was the
        largest cost of a write on the proposer.
        """
        return {
            'v': self.v,
            'id': self.id,
            'type': self.type,
            'ts': self.ts,
            'origin': self.origin,
            'term': self.term,
            'args': self.args,
        }

    @classmethod
    def from_wire(cls, data: Any) -> Command:
        """Rebuild and validate a command received from elsewhere."""
        error = check(data)
        if error:
            raise exception.InvalidCommand(error)
        return cls(**data)


def _error(validator: Any, data: Any, where: str) -> str | None:
    try:
        validator(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        return where + exc.message.removeprefix('data')
    return None


def check(data: Any) -> str | None:
    """Return why ``data`` is not a valid command, or None if it is.

    Pure and deterministic: the appliers call it on every member, so a
    malformed command that reached the log is refused the same way
    everywhere.
    """
    if not isinstance(data, dict):
        return 'a command must be a mapping, got %s' % type(data).__name__
    version = data.get('v')
    if isinstance(version, int) and version > SCHEMA_VERSION:
        return (
            'command schema version %d is newer than this member '
            'understands (%d): upgrade this site' % (version, SCHEMA_VERSION)
        )
    error = _error(_ENVELOPE, data, 'command')
    if error:
        return error
    kind = data['type']
    since = registry.DECLARED[kind].since
    if data['v'] < since:
        # A member of the older schema does not know it either: refused
        # the same way everywhere.
        return 'command.v: %s needs schema version %d, not %d' % (
            kind,
            since,
            data['v'],
        )
    if kind in LEADER_ONLY and data.get('term') is None:
        return 'command.term: %s is made by the leader and needs its term' % (
            kind
        )
    error = _error(_ARGS[kind], data['args'], kind)
    if error is None and kind == 'policy.set':
        key = data['args']['key']
        error = _error(_POLICY[key], data['args']['value'], 'policy.' + key)
    return error


def make(
    type: str,
    args: dict[str, Any],
    origin: str,
    term: int | None = None,
    now: float | None = None,
) -> Command:
    """Make a new command, stamped and validated by its proposer.

    :raises InvalidCommand: naming the first field that is wrong; nothing
        is submitted then.
    """
    declared = registry.DECLARED.get(type)
    data = {
        # Unknown types are refused by check() below.
        'v': declared.since if declared else SCHEMA_VERSION,
        'id': uuid.uuid4().hex,
        'type': type,
        'ts': time.time() if now is None else now,
        'origin': origin,
        'term': term,
        'args': args,
    }
    return Command.from_wire(data)
