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

"""What every family of Knowledge Base commands is made of.

A family module (one per group of sections of the replicated data)
declares each of its commands once: its name, the JSON schema of its
arguments, whether only the leader may make it, and its applier.
:mod:`sodos.kb.sections.registry` gathers the families; the proposers'
checks (:mod:`sodos.kb.commands`) and the state machine
(:mod:`sodos.kb.state`) read the declarations from there.

Every member applies the same commands in the same order and must end in
the same state, so an applier reads no clock, draws no random number,
does no I/O and does not depend on dict ordering that differs between
members: timestamps and ids come in the command. An applier that cannot
apply a command raises :class:`Rejected`, which leaves the state as it
was (pysyncobj would otherwise retry the entry on every tick, forever).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

Result = dict[str, Any]
Applier = Callable[[dict[str, Any], dict[str, Any]], Result]


class Rejected(Exception):
    """The command is valid but cannot apply to the current state."""


@dataclasses.dataclass(frozen=True)
class Declared:
    """One command of the Knowledge Base.

    ``leader_only`` commands may only be proposed by the AnalysePlan or
    KnowMon beside the Raft leader. They carry the term they were made
    in, and the state machine refuses one made in a term older than the
    newest it has seen: a deposed leader may believe it leads for a while
    (research/pysyncobj.md, issue #101).

    ``since`` is the KB schema version that added the command. A member
    of older code refuses it, so it is proposed only once every site
    publishes that version (:mod:`sodos.kb.versions`).
    """

    name: str
    schema: dict[str, Any]
    applier: Applier
    leader_only: bool = False
    since: int = 1


class Family:
    """The commands one module declares, in the order it declares them."""

    def __init__(self) -> None:
        self.declared: list[Declared] = []

    def declare(
        self,
        name: str,
        schema: dict[str, Any],
        applier: Applier,
        leader_only: bool = False,
        since: int = 1,
    ) -> None:
        self.declared.append(
            Declared(name, schema, applier, leader_only, since)
        )

    def command(
        self,
        name: str,
        schema: dict[str, Any],
        leader_only: bool = False,
        since: int = 1,
    ) -> Callable[[Applier], Applier]:
        """Declare the decorated function as the applier of ``name``."""

        def declare(func: Applier) -> Applier:
            self.declare(name, schema, func, leader_only, since)
            return func

        return declare


def site(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The site ``name`` of the state.

    :raises Rejected: an unknown site.
    """
    try:
        found: dict[str, Any] = data['sites'][name]
    except KeyError:
        raise Rejected('unknown site %r' % name) from None
    return found


def own_site(data: dict[str, Any], cmd: dict[str, Any], what: str) -> str:
    """The site of ``cmd``'s args, which only that site may write.

    :raises Rejected: an unknown site, or a command from another site
        ("site a cannot <what> site b").
    """
    name: str = cmd['args']['site']
    site(data, name)
    if name != cmd['origin']:
        raise Rejected(
            'site %s cannot %s site %s' % (cmd['origin'], what, name)
        )
    return name
