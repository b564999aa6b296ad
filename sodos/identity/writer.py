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
public Keystone API (:mod:`sodos.exec.openstack.identity`, or the
simulated Keystone of :mod:`sodos.exec.simulator_identity`): same names
at every site, the site's own ids. ``shared`` writes Keystone's database
(:mod:`sodos.exec.openstack.keystone_db`): the federation's ids and
password hashes at every site; the fernet keys and revocation events
that make one token valid everywhere travel beside it
(:mod:`sodos.exec.identity_keys`).
"""

from __future__ import annotations

import abc

from sodos.identity import converge


class IdentityWriter(abc.ABC):
    """One site's identity store. Errors are ``sodos.exec.driver``'s
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

    def close(self) -> None:
        """Release connections; the default writer holds none."""
        return None
