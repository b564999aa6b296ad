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


"""What a site's network service offers Exec (Neutron, or the simulator).

Resources are plain dicts shaped as Neutron gives them, with only the
fields sodos reads:

* network: ``id``, ``name``, ``description``;
* subnet: ``id``, ``network_id``, ``cidr``, ``description``;
* security group: ``id``, ``name``, ``description``, ``rules`` (each
  ``direction``, ``ethertype``, ``protocol``, ``port_range_min``,
  ``port_range_max``, ``remote_ip_prefix``, ``remote_group_id``).

What sodos makes carries :data:`MADE_BY_SODOS` as its description, so
that it removes only what it made, and finds it again after a crash
between two steps. ``project``: the project id; None is the project the
driver's own credentials are scoped to.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol

MADE_BY_SODOS = 'made by sodos for appliance members'

Resource = dict[str, Any]


class NetworkStore(Protocol):
    def project_id(self, project: str | None) -> str:
        """The id networks are made in (``project`` or the default)."""

    def networks(
        self, project: str, name: str | None = None
    ) -> list[Resource]:
        """The project's networks, those named ``name`` if given."""

    def made_in(self) -> set[str]:
        """The projects holding a network or security group sodos made
        (to collect in after the last appliance of a project is gone)."""

    def create_network(self, project: str, name: str) -> Resource:
        """A new network, described as made by sodos."""

    def delete_network(self, network_id: str) -> bool:
        """Delete it and its subnets; False if ports still use it (it
        stays), True once gone (gone already included)."""

    def subnets(self, network_id: str) -> list[Resource]:
        """The network's subnets."""

    def create_subnet(
        self, project: str, network_id: str, name: str, cidr: str
    ) -> Resource:
        """A new IPv4 subnet with DHCP, described as made by sodos."""

    def security_groups(
        self, project: str, name: str | None = None
    ) -> list[Resource]:
        """The project's security groups (named ``name`` if given),
        with their rules."""

    def create_security_group(self, project: str, name: str) -> Resource:
        """A new group (with the service's default egress rules),
        described as made by sodos."""

    def add_rule(self, project: str, group_id: str, rule: Resource) -> None:
        """Add a rule given as Neutron's fields (an equal one existing
        already is fine)."""

    def delete_security_group(self, group_id: str) -> bool:
        """Delete it; False if ports still use it, True once gone."""
