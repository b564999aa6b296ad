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

"""The KnowMon API's methods, once for both of its clients.

Each method is an entry of :data:`METHODS` (what the RPC client needs to
know: the API version, the deadline) and a typed line of
:class:`KnowMonClient` that sends its arguments by name to the manager's
method of the same name (manager.py). The in-process client
(manager.LocalKnowMonAPI) and the RPC one (rpcapi.KnowMonAPI) differ only
in how a call travels: their ``_call``.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

from sodos.kb import query as kbquery


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split('.'))


@dataclasses.dataclass(frozen=True)
class Method:
    """What a client must know of one method of the API."""

    # The API version that added it (rpcapi's version history).
    version: str
    # Arguments added since, with the version that added each: a call
    # that sets one asks for that version (so an older KnowMon refuses
    # it plainly rather than ignoring it); one left unset does not.
    later: dict[str, str] = dataclasses.field(default_factory=dict)
    # It waits for a commit: over the bus its deadline is the commit's
    # timeout (its ``commit_timeout`` argument or [raft]commit_timeout)
    # plus a margin, so that the caller gets the KB's own answer.
    commits: bool = False

    def version_for(self, kwargs: dict[str, Any]) -> str:
        """The API version a call with these arguments needs."""
        asked = [
            version
            for name, version in self.later.items()
            if kwargs.get(name) is not None
        ]
        return max([self.version, *asked], key=_parts)


METHODS: dict[str, Method] = {
    # Its arguments are a Query's fields (sodos.kb.query).
    'read': Method('1.0', later={'site': '1.2', 'key': '1.3'}),
    'submit': Method('1.0', commits=True),
    'submit_many': Method('1.3', commits=True),
    'status': Method('1.0'),
    'in_quorum': Method('1.0'),
    'liveness': Method('1.0'),
    'report': Method('1.1', commits=True),
}


class KnowMonClient(abc.ABC):
    """What roles may ask of their site's KnowMon, wherever it runs.

    Errors: a refused or malformed command comes back as a result
    ``{'ok': False, 'error': ...}``; a refused read raises
    :class:`sodos.exception.SodosError`.
    """

    # How the calls travel, for the roles' cycle lines: 'RPC', 'in-process'.
    via: str

    @abc.abstractmethod
    def _call(self, method: str, **kwargs: Any) -> Any:
        """The manager's answer to ``method`` (an entry of METHODS) called
        with these arguments."""

    def read(
        self, query: kbquery.Query | str | None = None, **fields: Any
    ) -> Any:
        """What the site's member of the KB holds, as much as ``query``
        asks (the shorthand of :func:`sodos.kb.query.of` taken)."""
        wire = kbquery.of(query, **fields).to_wire()
        return kbquery.unwrap(self._call('read', **wire))

    def submit(
        self, command: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            'submit', command=command, commit_timeout=timeout
        )
        return result

    def submit_many(
        self, wires: list[dict[str, Any]], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            'submit_many', wires=wires, commit_timeout=timeout
        )
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call('status')
        return result

    def in_quorum(self) -> bool:
        return bool(self._call('in_quorum'))

    def liveness(self) -> dict[str, float]:
        result: dict[str, float] = self._call('liveness')
        return result

    def report(
        self, summary: dict[str, Any], force: bool = False
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            'report', summary=summary, force=force
        )
        return result

    def close(self) -> None:
        """Release what the client holds."""
        # Nothing here: the in-process client's backend belongs to the
        # KnowMon role, which stops it.
        return None
