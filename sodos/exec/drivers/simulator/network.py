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


"""A simulated site's network service (sodos.exec.networks.store).

In memory, as Neutron would answer: networks, subnets and security
groups by project, and ports, which servers booted on a network hold
until they are deleted. A network or group with ports cannot be
deleted, as in Neutron.
"""

from __future__ import annotations

import copy
import ipaddress
import threading
import uuid
from typing import Any

from sodos import exception
from sodos.exec.networks import store as store_mod

DEFAULT_PROJECT = 'simulated-project'


class SimulatedNetworks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.networks_by_id: dict[str, dict[str, Any]] = {}
        self.subnets_by_id: dict[str, dict[str, Any]] = {}
        self.groups_by_id: dict[str, dict[str, Any]] = {}
        # server id -> [(network id, group ids, address)]
        self.ports: dict[str, list[tuple[str, list[str], str]]] = {}

    # -- the store --------------------------------------------------------

    def project_id(self, project: str | None) -> str:
        return project or DEFAULT_PROJECT

    def networks(
        self, project: str, name: str | None = None
    ) -> list[dict[str, Any]]:
        return self._find(self.networks_by_id, project, name)

    def create_network(self, project: str, name: str) -> dict[str, Any]:
        return self._add(self.networks_by_id, project, name)

    def made_in(self) -> set[str]:
        with self._lock:
            return {
                r['project_id']
                for table in (self.networks_by_id, self.groups_by_id)
                for r in table.values()
                if r.get('description') == store_mod.MADE_BY_SODOS
            }

    def delete_network(self, network_id: str) -> bool:
        with self._lock:
            if any(
                port[0] == network_id
                for ports in self.ports.values()
                for port in ports
            ):
                return False
            self.networks_by_id.pop(network_id, None)
            for subnet_id, subnet in list(self.subnets_by_id.items()):
                if subnet['network_id'] == network_id:
                    del self.subnets_by_id[subnet_id]
            return True

    def subnets(self, network_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(s)
                for s in self.subnets_by_id.values()
                if s['network_id'] == network_id
            ]

    def create_subnet(
        self, project: str, network_id: str, name: str, cidr: str
    ) -> dict[str, Any]:
        return self._add(
            self.subnets_by_id,
            project,
            name,
            network_id=network_id,
            cidr=cidr,
        )

    def security_groups(
        self, project: str, name: str | None = None
    ) -> list[dict[str, Any]]:
        return self._find(self.groups_by_id, project, name)

    def create_security_group(self, project: str, name: str) -> dict[str, Any]:
        default_egress = {
            'direction': 'egress',
            'ethertype': 'IPv4',
            'protocol': None,
            'port_range_min': None,
            'port_range_max': None,
            'remote_ip_prefix': None,
            'remote_group_id': None,
        }
        return self._add(
            self.groups_by_id, project, name, rules=[default_egress]
        )

    def add_rule(
        self, project: str, group_id: str, rule: dict[str, Any]
    ) -> None:
        with self._lock:
            rules = self.groups_by_id[group_id]['rules']
            if rule not in rules:
                rules.append(dict(rule, remote_group_id=None))

    def delete_security_group(self, group_id: str) -> bool:
        with self._lock:
            if any(
                group_id in port[1]
                for ports in self.ports.values()
                for port in ports
            ):
                return False
            self.groups_by_id.pop(group_id, None)
            return True

    # -- ports, as the compute service makes them --------------------------

    def plug(
        self, server_id: str, network_ids: list[str], group_ids: list[str]
    ) -> None:
        """One port per network, with the next free address."""
        with self._lock:
            ports = []
            for network_id in network_ids:
                subnets = [
                    s
                    for s in self.subnets_by_id.values()
                    if s['network_id'] == network_id
                ]
                if network_id not in self.networks_by_id or not subnets:
                    raise _refused(network_id)
                ports.append(
                    (network_id, list(group_ids), self._address(subnets[0]))
                )
            self.ports[server_id] = ports

    def unplug(self, server_id: str) -> None:
        with self._lock:
            self.ports.pop(server_id, None)

    def addresses(self, server_id: str) -> tuple[str, ...]:
        with self._lock:
            return tuple(port[2] for port in self.ports.get(server_id, []))

    # -- helpers ------------------------------------------------------------

    def _address(self, subnet: dict[str, Any]) -> str:
        taken = {p[2] for ports in self.ports.values() for p in ports}
        # The first address is the gateway's, as Neutron's default.
        hosts = ipaddress.ip_network(subnet['cidr']).hosts()
        next(hosts)
        for host in hosts:
            if str(host) not in taken:
                return str(host)
        raise _refused(subnet['network_id'], 'no free address')

    def _find(
        self, table: dict[str, Any], project: str, name: str | None
    ) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(r)
                for r in table.values()
                if r['project_id'] == project
                and (name is None or r['name'] == name)
            ]

    def _add(
        self, table: dict[str, Any], project: str, name: str, **fields: Any
    ) -> dict[str, Any]:
        made = {
            'id': str(uuid.uuid4()),
            'name': name,
            'project_id': project,
            'description': store_mod.MADE_BY_SODOS,
            **fields,
        }
        with self._lock:
            table[made['id']] = made
            return copy.deepcopy(made)

    def add_foreign(
        self, kind: str, project: str, name: str, **fields: Any
    ) -> dict[str, Any]:
        """A resource as if an operator had made it (tests)."""
        table = {
            'network': self.networks_by_id,
            'subnet': self.subnets_by_id,
            'security_group': self.groups_by_id,
        }[kind]
        made = self._add(table, project, name, **fields)
        with self._lock:
            table[made['id']]['description'] = ''
        return dict(made, description='')


def _refused(network_id: str, what: str = 'no such network') -> Exception:
    return exception.PermanentError(
        'Network %s: %s (HTTP 400)' % (network_id, what)
    )
