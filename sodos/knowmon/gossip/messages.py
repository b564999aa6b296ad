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


"""The gossip messages: JSON-safe dicts, checked field by field on receipt.

Every message names the protocol version, the federation, its sender and
the sender's incarnation, and carries piggybacked updates::

    {'v': 1, 'fed': ID,
     'type': 'ping' | 'ack' | 'ping_req' | 'nack' | 'gossip',
     'from': NAME, 'inc': INT, 'seq': INT, 'target': NAME,
     'updates': [{'member': NAME, 'state': STATE, 'inc': INT,
                  'by': NAME}, ...]}

``target`` is the member a ping is for, a ping_req asks to probe, or an
ack answers for; a nack is a helper's word that ``target`` did not answer
its ping for the requester's probe ``seq`` either; a gossip only carries
updates (its ``target`` is its recipient). Anything else is refused with a
reason, never raised.
"""

from __future__ import annotations

import dataclasses
from typing import Any

VERSION = 1
TYPES = ('ping', 'ack', 'ping_req', 'nack', 'gossip')
STATES = ('alive', 'suspect', 'dead')
MAX_NAME = 255
# Incarnations and sequence numbers stay exact in a JSON double.
MAX_INT = 2**53 - 1
MAX_UPDATES = 64


class Invalid(ValueError):
    """A message that does not follow this format; the reason says why."""


@dataclasses.dataclass(frozen=True)
class Update:
    member: str
    state: str
    inc: int
    by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            'member': self.member,
            'state': self.state,
            'inc': self.inc,
            'by': self.by,
        }


@dataclasses.dataclass(frozen=True)
class Message:
    type: str
    sender: str
    inc: int
    seq: int
    target: str
    updates: tuple[Update, ...] = ()

    def to_dict(self, federation: str) -> dict[str, Any]:
        return {
            'v': VERSION,
            'fed': federation,
            'type': self.type,
            'from': self.sender,
            'inc': self.inc,
            'seq': self.seq,
            'target': self.target,
            'updates': [u.to_dict() for u in self.updates],
        }


def parse(raw: Any, federation: str) -> Message:
    """The message in ``raw``, a decoded JSON value.

    :raises Invalid: with the reason, for the caller to count.
    """
    if not isinstance(raw, dict):
        raise Invalid('not an object')
    if raw.get('v') != VERSION:
        raise Invalid('unknown version')
    if raw.get('fed') != federation:
        raise Invalid('other federation')
    kind = raw.get('type')
    if kind not in TYPES:
        raise Invalid('unknown type')
    updates = raw.get('updates')
    if not isinstance(updates, list) or len(updates) > MAX_UPDATES:
        raise Invalid('bad updates')
    return Message(
        type=kind,
        sender=_name(raw.get('from')),
        inc=_int(raw.get('inc')),
        seq=_int(raw.get('seq')),
        target=_name(raw.get('target')),
        updates=tuple(_update(u) for u in updates),
    )


def _update(raw: Any) -> Update:
    if not isinstance(raw, dict):
        raise Invalid('bad update')
    state = raw.get('state')
    if state not in STATES:
        raise Invalid('bad update state')
    return Update(
        member=_name(raw.get('member')),
        state=state,
        inc=_int(raw.get('inc')),
        by=_name(raw.get('by')),
    )


def _name(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
        raise Invalid('bad member name')
    return value


def _int(value: Any) -> int:
    # bool is an int to Python, not to the protocol.
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_INT
    ):
        raise Invalid('bad number')
    return value
