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


"""What the server actions ask of the networks (sodos.exec.actions).

Before a member boots: the networks its appliance's spec names for it,
made to exist at the site (:func:`for_member`). After a member's server
is gone: what sodos made and no member placed here uses any more,
removed (:func:`release`). ``read(section, key)`` reads the KB through
the site's KnowMon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from sodos import exception
from sodos.domain import networks as networks_mod
from sodos.domain import ownership
from sodos.exec.networks import reconcile

if TYPE_CHECKING:
    # The drivers use this package's store: the driver type is for the
    # checker only.
    from sodos.exec.drivers import base as driver_mod

LOG = logging.getLogger(__name__)

Reader = Callable[[str, str | None], dict[str, Any]]


def for_member(
    read: Reader,
    driver: driver_mod.Driver,
    site: str,
    appliance_id: str,
    member: str,
    project: str | None = None,
) -> list[reconcile.Attachment]:
    """The member's networks at this site, in the spec's order; none for
    a member (or an appliance) that names none. ``project``: the one its
    server is built in, as this site calls it (None: Exec's own)."""
    record = read('appliances', appliance_id).get(appliance_id) or {}
    definitions = networks_mod.member_networks(
        record.get('spec') or {}, member
    )
    if not definitions:
        return []
    store = driver.network_store()
    if store is None:
        raise exception.PermanentError(
            'member %s attaches to network(s) %s, but the %s Exec driver '
            'of site %s has no network service'
            % (
                member,
                ', '.join(d['name'] for d in definitions),
                driver.conf.exec.driver,
                site,
            )
        )
    return [
        reconcile.ensure(store, project, site, definition)
        for definition in definitions
    ]


def release(
    read: Reader,
    driver: driver_mod.Driver,
    site: str,
    in_owner_project: bool = True,
) -> list[str]:
    """Remove the networks sodos made here that no placed member uses,
    in every project that holds some (the last appliance of a project
    may be gone from the KB already).

    Never fails the delete it follows: what stays is removed after the
    next delete at the site.
    """
    store = driver.network_store()
    if store is None:
        return []
    try:
        ident = read('identity', 'idmap')

        def project_of(spec: dict[str, Any]) -> str:
            owner = ownership.owner(spec) if in_owner_project else None
            local = ownership.local_id(ident, site, owner) if owner else None
            return store.project_id(local)

        used = reconcile.in_use(
            site,
            read('placements', None),
            read('appliances', None),
            project_of,
        )
        removed: list[str] = []
        for project in sorted(store.made_in() | set(filter(None, used))):
            removed += reconcile.collect(store, project, used.get(project, ()))
        return sorted(removed)
    except exception.SodosError as exc:
        LOG.warning('networks: not removed at site %s: %s', site, exc)
        return []
