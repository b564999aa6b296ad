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

"""How a site's identity is read and written: the writer interface.

``[identity]mode`` chooses the writer. ``api`` goes through the site's
public Keystone API (:mod:`sodos.exec.drivers.openstack.identity`, or the
simulated Keystone of :mod:`sodos.exec.drivers.simulator.identity`): same names
at every site, the site's own ids. ``shared`` writes Keystone's database
(:mod:`sodos.exec.drivers.openstack.keystone_db`): the federation's ids and
password hashes at every site; the fernet keys and revocation events
that make one token valid everywhere travel beside it
(:mod:`sodos.exec.identity.keys`).
"""

from __future__ import annotations

import abc
from typing import Any

from sodos import exception
from sodos.identity import converge
from sodos.identity import model


class IdentityWriter(abc.ABC):
    """One site's identity store. Errors are :mod:`sodos.exception`'s
    TransientError and PermanentError, with the service's own text."""

    @abc.abstractmethod
    def snapshot(self) -> converge.Observed:
        """Every domain, project, user and group of the site, and every
        role assignment (roles by name); memberships are left empty
        (see :meth:`group_members`)."""

    @abc.abstractmethod
    def group_members(self, group_id: str) -> set[str]:
        """The ids of the users in the site's group ``group_id``."""

    @abc.abstractmethod
    def apply(self, op: converge.Op) -> str | None:
        """Carry out ``op``; return the site's id of what it created."""

    @abc.abstractmethod
    def mark(self, kind: str, local_id: str, gid: str) -> None:
        """Mark the site's object ``local_id`` as the federation's ``gid``
        (adoption, :mod:`sodos.identity.adoption`): set its
        :data:`~sodos.identity.model.MARKER` and change nothing else.

        Done already (the same mark) is a no-op; an object that is gone,
        protected or marked with another id is refused (PermanentError).
        """

    def close(self) -> None:
        """Release connections; the default writer holds none."""
        return None


def needs_mark(
    kind: str,
    local_id: str,
    obj: dict[str, Any] | None,
    gid: str,
    protected: dict[str, set[str]],
) -> bool:
    """The rule every writer's :meth:`IdentityWriter.mark` keeps: True
    if the site's object ``obj`` (None: the site has none) is to be
    marked, False if it has that mark already.

    :raises PermanentError: it is gone, protected or marked otherwise.
    """
    single = model.SINGULAR[kind]
    if obj is None:
        raise exception.PermanentError(
            'Could not find %s: %s.' % (single, local_id)
        )
    name = obj.get('name')
    if name in protected.get(kind, set()):
        raise exception.PermanentError(
            '%s %s is protected ([identity]protected_%s): sodos does not '
            'change it' % (single, name, kind)
        )
    marker = obj.get(model.MARKER)
    if marker == gid:
        return False
    if marker:
        raise exception.PermanentError(
            "%s %s (%s) has the %s %s: it is sodos's already, not adopted "
            'again' % (single, name, local_id, model.MARKER, marker)
        )
    return True
