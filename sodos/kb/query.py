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

"""What a read of the Knowledge Base asks, and what KnowMon answers.

A :class:`Query` travels unchanged from the caller through every layer
(KnowMon's clients and manager, the state backend, the Raft runner and
consumer) down to :meth:`sodos.kb.state.KnowledgeState.freeze`, which is
the one place that interprets it (state.check_query says what it cannot
answer). A new way to narrow a read is a new field here, read there; the
layers in between only pass the query on (the RPC API gets a version for
the new argument: sodos.knowmon.rpcapi). Over the message bus a query
travels as its non-default fields, by name (the ``read`` method's
arguments since RPC API 1.0), so a KnowMon of any release understands
the fields it knows.

A :data:`Reply` is what KnowMon's ``read`` answers, in process or over
the bus (see sodos/knowmon/manager.py for why errors are results).
"""

from __future__ import annotations

import dataclasses
from typing import Any
from typing import NotRequired
from typing import TypedDict

from sodos import exception


@dataclasses.dataclass(frozen=True)
class Query:
    """One read: a section (``None``: every section) and its narrowing."""

    section: str | None = None
    # Only what concerns this site (state.BY_SITE): Exec asks every
    # cycle, and a whole section copied at every site costs the
    # federation CPU that grows with its size squared.
    site: str | None = None
    # Only this entry of the section (``{}`` if absent): an action that
    # looks up its own member's placement.
    key: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The fields set, by name: what the RPC ``read`` is sent."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }

    @classmethod
    def from_wire(cls, fields: dict[str, Any]) -> Query:
        """The query a caller sent as arguments.

        :raises SodosError: naming an argument this release does not
            know, rather than answering more than was asked. (A client
            that sets a newer field asks for the API version that added
            it, which an older KnowMon refuses before this.)
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise exception.SodosError(
                'unknown read argument(s): %s' % ', '.join(unknown)
            )
        return cls(**fields)


def of(query: Query | str | None = None, **fields: Any) -> Query:
    """The query a read was given: a :class:`Query` as it is, or a
    section name (``None``: every section) narrowed by ``fields``.

    The shorthand the readers use (``read('sites')``, ``read('alerts',
    site=name)``); it names no field, so a new one needs no change here.
    """
    if isinstance(query, Query):
        return dataclasses.replace(query, **fields) if fields else query
    return Query(query, **fields)


class Reply(TypedDict):
    """KnowMon's answer to a read: the data, or why there is none."""

    ok: bool
    data: NotRequired[Any]
    error: NotRequired[str]


def answer(data: Any) -> Reply:
    return {'ok': True, 'data': data}


def refusal(error: str) -> Reply:
    return {'ok': False, 'error': error}


def unwrap(reply: Reply) -> Any:
    """The data of a reply, or its error raised (as SodosError)."""
    if not reply.get('ok'):
        raise exception.SodosError(reply.get('error'))
    return reply['data']
