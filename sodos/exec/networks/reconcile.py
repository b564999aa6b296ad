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


"""Make a member's networks exist at the site, and remove the unused.

:func:`ensure` is idempotent: it looks before each step, so a run cut
short at any step (an Exec crash between the network and its subnet,
say) is finished by the next one, and what sodos made is found again by
its description (:data:`~.store.MADE_BY_SODOS`). :func:`collect` removes
only what sodos made, once no appliance of the project uses it at the
site; a network whose ports are not gone yet stays for the next run.

Calls within one Exec are serialised: two members booting together on a
new network must not make it twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from sodos import exception
from sodos.domain import networks as networks_mod
from sodos.exec.networks import rules
from sodos.exec.networks import store as store_mod

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A network a member boots on, as the site has it."""

    name: str
    network_id: str
    subnet_id: str
    security_group_id: str
    # What this run did: created, used or adopted (network, group).
    outcome: tuple[str, str]


def ensure(
    store: store_mod.NetworkStore,
    project: str | None,
    site: str,
    definition: dict[str, Any],
) -> Attachment:
    """The network, subnet and security group of ``definition`` at this
    site, made if absent; :class:`PermanentError` naming the reason if
    the site has one that differs."""
    name = definition['name']
    cidr = networks_mod.cidr_at(definition, site)
    with _LOCK:
        project_id = store.project_id(project)
        found = store.networks(project_id, name)
        subnets = {n['id']: store.subnets(n['id']) for n in found}
        net = rules.choose_network(name, cidr, found, subnets)
        if net.action == rules.REFUSE:
            raise exception.PermanentError(
                'network %s at site %s: %s' % (name, site, net.reason)
            )
        network = net.network or store.create_network(project_id, name)
        subnet = net.subnet or store.create_subnet(
            project_id, network['id'], name, cidr
        )
        sg = rules.choose_group(
            name,
            rules.wanted_rules(definition),
            store.security_groups(project_id, name),
        )
        if sg.action == rules.REFUSE:
            raise exception.PermanentError(
                'network %s at site %s: %s' % (name, site, sg.reason)
            )
        group = sg.group or store.create_security_group(project_id, name)
        for key in sg.missing_rules:
            store.add_rule(project_id, group['id'], rules.neutron_rule(key))
    if net.action == rules.CREATE or sg.action == rules.CREATE:
        LOG.info(
            'networks: %s at site %s: network %s, security group %s',
            name,
            site,
            net.action,
            sg.action,
        )
    return Attachment(
        name=name,
        network_id=network['id'],
        subnet_id=subnet['id'],
        security_group_id=group['id'],
        outcome=(net.action, sg.action),
    )


def collect(
    store: store_mod.NetworkStore,
    project: str | None,
    in_use: Iterable[str],
) -> list[str]:
    """Remove the networks and security groups sodos made in the project
    that are not ``in_use`` (names); the names of those removed."""
    keep = set(in_use)
    removed = []
    with _LOCK:
        project_id = store.project_id(project)
        for group in store.security_groups(project_id):
            if rules.made_by_sodos(group) and group['name'] not in keep:
                store.delete_security_group(group['id'])
        for network in store.networks(project_id):
            if rules.made_by_sodos(network) and network['name'] not in keep:
                if store.delete_network(network['id']):
                    removed.append(network['name'])
    if removed:
        LOG.info('networks: removed %s, used by no member here', removed)
    return sorted(removed)


def in_use(
    site: str,
    placements: dict[str, dict[str, Any]],
    appliances: dict[str, dict[str, Any]],
    project_of: Callable[[dict[str, Any]], str | None] = lambda spec: None,
) -> dict[str | None, set[str]]:
    """The names of the networks members placed at ``site`` attach to,
    by the project (``project_of`` an appliance's spec) they are in."""
    names: dict[str | None, set[str]] = {}
    for placed in placements.values():
        if placed.get('site') != site:
            continue
        record = appliances.get(placed.get('appliance_id', '')) or {}
        spec = record.get('spec') or {}
        for network in networks_mod.member_networks(spec, placed['member']):
            names.setdefault(project_of(spec), set()).add(network['name'])
    return names
