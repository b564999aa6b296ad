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

"""Owners' sharing policies as the planner sees them.

:class:`Ledger` says, per site, who owns it, what its owner's policy is,
how much it lends and how much of that guests use; :class:`SharingFilter`
refuses a member where the site's owner does not admit the member's
owner (or project), or where the room it lends is used up. An owner's
own projects may use the whole site: what is not lent is theirs.

The planner always adds the filter (:class:`sodos.analyseplan.planner.
Planner`): an owner's policy is not a site operator's to turn off. A
federation whose sites name no owner builds no ledger, and the filter
then stands aside (:meth:`SharingFilter.applies`), so it plans as before.
"""

from __future__ import annotations

import copy
from typing import Any

from sodos.analyseplan import filters
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance
from sodos.domain import community


class Ledger:
    """Per site of a :class:`SiteTable`: its owner, its policy, the
    (vCPUs, MB of RAM) it lends and what guests use of it."""

    def __init__(self, kb: dict[str, Any], table: SiteTable) -> None:
        sites = kb.get('sites', {})
        owners = kb.get('owners') or {}
        self.host: list[str | None] = [
            community.site_owner(sites[name]) for name in table.names
        ]
        self.policy = [
            community.policy_of(owners, host) if host else {}
            for host in self.host
        ]
        self.lend = [
            community.lent(policy, total[0], total[1]) if policy else None
            for policy, total in zip(self.policy, table.total, strict=True)
        ]
        self.guests: list[list[float]] = [[0.0, 0.0] for _ in table.names]

    def copy(self) -> Ledger:
        other = copy.copy(self)
        other.guests = [row[:] for row in self.guests]
        return other

    def is_guest(self, i: int, owner: str) -> bool:
        host = self.host[i]
        return host is not None and owner != host

    def add(self, i: int, owner: str, need: list[float], sign: int) -> None:
        """Count (``sign`` 1) or stop counting (-1) a server of
        ``owner`` needing ``need`` at site ``i``."""
        if self.is_guest(i, owner):
            row = self.guests[i]
            self.guests[i] = [row[0] + sign * need[0], row[1] + sign * need[1]]

    def refusal(
        self, i: int, owner: str, project: str | None, need: list[float]
    ) -> str | None:
        """Why site ``i`` cannot take a server of ``owner``'s
        ``project`` needing ``need``; None if it can."""
        host = self.host[i]
        if host is None or owner == host:
            return None
        if not community.admits(self.policy[i], host, owner, project):
            return 'owner %s does not admit %s' % (
                host,
                'owner %s' % owner if owner else 'projects of no owner',
            )
        lend, used = self.lend[i], self.guests[i]
        assert lend is not None
        for j, res in enumerate(('vcpu', 'ram_mb')):
            if used[j] + need[j] > lend[j]:
                return 'owner %s lends %g %s, guests use %g' % (
                    host,
                    lend[j],
                    res,
                    used[j],
                )
        return None


def ledger(kb: dict[str, Any], table: SiteTable) -> Ledger | None:
    """The ledger of ``table``'s sites; None when no site has an owner."""
    built = Ledger(kb, table)
    return built if any(h is not None for h in built.host) else None


class SharingFilter(filters.Filter):
    """The site's owner admits the member's and lends it room."""

    name = 'sharing'

    def applies(self, table: SiteTable) -> bool:
        return table.sharing is not None

    def mask(
        self,
        table: SiteTable,
        inst: appliance.Instance,
        ctx: filters.Context,
    ) -> list[bool] | None:
        if table.sharing is None:
            return None
        return [
            self.admits(table, i, inst, ctx) for i in range(len(table.names))
        ]

    def admits(
        self,
        table: SiteTable,
        i: int,
        inst: appliance.Instance,
        ctx: filters.Context,
    ) -> bool:
        return self._refusal(table, i, inst, ctx) is None

    def why(
        self,
        table: SiteTable,
        i: int,
        inst: appliance.Instance,
        ctx: filters.Context,
    ) -> str:
        return self._refusal(table, i, inst, ctx) or self.name

    @staticmethod
    def _refusal(
        table: SiteTable,
        i: int,
        inst: appliance.Instance,
        ctx: filters.Context,
    ) -> str | None:
        if table.sharing is None:
            return None
        need = table.need(inst.flavor)[i]
        return table.sharing.refusal(i, ctx.owner, ctx.project, need)
