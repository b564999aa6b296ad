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

"""A quick end-to-end check of a running site (``minicloud smoke``).

Token and catalog, the seeded image, placement inventory, then a server
without network booted to ACTIVE and deleted: the delete goes through
nova's neutron path, so it proves the stub answers too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from typing import Any

from tests.minicloud import errors
from tests.minicloud import probes
from tests.minicloud import seed

if TYPE_CHECKING:
    from tests.minicloud import site as site_mod

BOOT_TIMEOUT = 120.0


def _server_state(nova: Any, server_id: str) -> Any:
    server = nova.servers.get(server_id)
    if server.status == 'ERROR':
        raise errors.MinicloudError(
            'smoke boot',
            'server %s went to ERROR: %s'
            % (server_id, getattr(server, 'fault', {}).get('message')),
        )
    return server.status == 'ACTIVE'


def _server_gone(nova: Any, server_id: str) -> bool:
    from novaclient import exceptions

    try:
        nova.servers.get(server_id)
    except exceptions.NotFound:
        return True
    return False


def run(site: site_mod.Site) -> None:
    started = time.monotonic()

    def step(text: str) -> None:
        site.say('%6.1fs smoke: %s' % (time.monotonic() - started, text))

    sess = site.session()
    access = sess.auth.get_access(sess)  # type: ignore[union-attr]
    regions = {
        e['region']
        for service in access.service_catalog.catalog
        for e in service['endpoints']
    }
    if regions != {site.region}:
        raise errors.MinicloudError(
            'smoke token',
            'catalog regions %s, not {%s}' % (regions, site.region),
        )
    step('token issued; catalog in region %s' % site.region)

    from glanceclient import client as glance_client

    glance = glance_client.Client('2', session=sess, region_name=site.region)
    images = [i for i in glance.images.list() if i.name == seed.IMAGE_NAME]
    if not images or images[0].status != 'active':
        raise errors.MinicloudError(
            'smoke image', 'no active image %s' % seed.IMAGE_NAME
        )
    step('image %s is active' % seed.IMAGE_NAME)

    placement = probes.placement(sess, site.region)
    inventory = probes.provider_inventory(placement, site.compute_host)
    if not inventory or not {'VCPU', 'MEMORY_MB', 'DISK_GB'} <= set(inventory):
        raise errors.MinicloudError(
            'smoke placement', 'inventory is %s' % inventory
        )
    step('placement inventory: %s' % ', '.join(sorted(inventory)))

    nova = probes.compute(sess, site.region)
    flavor = nova.flavors.find(name='m1.tiny')
    server = nova.servers.create(
        'smoke-%d' % time.time(), images[0].id, flavor.id, nics='none'
    )
    probes.wait_until(
        'smoke boot',
        'server %s ACTIVE' % server.id,
        lambda: _server_state(nova, server.id),
        BOOT_TIMEOUT,
        log_file=site.log_file('nova-compute'),
    )
    step('server %s ACTIVE' % server.id)
    nova.servers.delete(server.id)
    probes.wait_until(
        'smoke delete',
        'server %s gone' % server.id,
        lambda: _server_gone(nova, server.id),
        BOOT_TIMEOUT,
        log_file=site.log_file('nova-compute'),
    )
    step('server deleted; PASSED')
