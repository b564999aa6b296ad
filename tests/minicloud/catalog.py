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

"""Register a site's services in its keystone.

keystone-manage bootstrap makes the admin user, the identity service and
the region; this adds project service, the service users glance,
placement and nova, and the image, placement and compute services with
their endpoints. A real neutron-server adds its user neutron and the
network service. The neutron stub is deliberately not registered:
clients see a site without a network service.
"""

from __future__ import annotations

from keystoneauth1 import session as ks_session

from tests.minicloud import accounts
from tests.minicloud import layout as layout_mod
from tests.minicloud import neutron


def services(
    lay: layout_mod.Layout, network: bool
) -> list[tuple[str, str, str]]:
    """(type, name, url) of every service beside identity."""
    found = [
        ('image', 'glance', lay.glance_url),
        ('placement', 'placement', lay.placement_url),
        ('compute', 'nova', lay.nova_url),
    ]
    if network:
        found.append((*neutron.SERVICE, lay.neutron_url))
    return found


def users(network: bool) -> tuple[str, ...]:
    """The service users to make."""
    if network:
        return accounts.SERVICE_USERS + (neutron.USER,)
    return accounts.SERVICE_USERS


def register(
    lay: layout_mod.Layout, sess: ks_session.Session, network: bool
) -> None:
    """network: register the site's real neutron-server too."""
    # Imported here: the package must import without the OpenStack
    # clients, so that a missing install gets a clear message.
    from keystoneclient.v3 import client

    ks = client.Client(session=sess, region_name=lay.name, interface='public')
    domain = ks.domains.find(name=accounts.DOMAIN)
    project = ks.projects.create(
        accounts.SERVICE_PROJECT, domain, description='service users'
    )
    roles = {r.name: r for r in ks.roles.list()}
    for name in accounts.SERVICE_ROLES:
        if name not in roles:
            roles[name] = ks.roles.create(name)
    for name in users(network):
        user = ks.users.create(
            name,
            domain=domain,
            password=accounts.SERVICE_PASSWORD,
            default_project=project,
        )
        for role in accounts.SERVICE_ROLES:
            ks.roles.grant(roles[role], user=user, project=project)
    for service_type, name, url in services(lay, network):
        service = ks.services.create(name, type=service_type)
        for interface in ('public', 'internal', 'admin'):
            ks.endpoints.create(
                service, url, interface=interface, region=lay.name
            )
