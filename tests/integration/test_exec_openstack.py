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

"""Exec on two real OpenStack sites.

Two ``sodos-site`` processes (one Raft federation, RPC over RabbitMQ),
each running the openstack Exec driver against its own minicloud site
and listening to that site's Nova notifications. The test writes
desired state into the KB as a planner would and checks the clouds
with the official clients.

Exec's periodic collection is set to ten minutes here, so a change seen
within seconds was seen through Nova's notifications.
"""

from __future__ import annotations

import time

import pytest
from keystoneauth1 import adapter as ks_adapter
from novaclient import client as nova_client

from tests import kbwriter
from tests.integration import sodos_sites as sodos_sites_mod
from tests.integration.conftest import SITE_NAMES

EXEC_SITES = SITE_NAMES[:2]
NOVA_VERSION = '2.79'
IMAGE = 'fake-image'
FLAVOR = 'm1.tiny'


@pytest.fixture(scope='module')
def sodos_sites(minicloud_sites, tmp_path_factory):
    """A two-site sodos federation, one site per minicloud."""
    with sodos_sites_mod.running_federation(
        minicloud_sites,
        str(tmp_path_factory.mktemp('sodos')),
        names=EXEC_SITES,
        timeout=90,
    ) as fed:
        yield fed


@pytest.fixture(scope='module')
def kb(sodos_sites):
    first = sodos_sites.sites[SITE_NAMES[0]]
    return kbwriter.KBWriter(sodos_sites.knowmon(first), origin='it')


def nova(mc):
    return nova_client.Client(
        NOVA_VERSION, session=mc.session(), region_name=mc.region
    )


def tagged(mc, appliance_id, member):
    return [
        s
        for s in nova(mc).servers.list()
        if s.metadata.get('sodos:appliance') == appliance_id
        and s.metadata.get('sodos:member') == member
    ]


def servers_at(kb, site):
    return kbwriter.servers_by_site(kb.api.read('monitoring')).get(site, {})


def test_action_builds_one_tagged_server_on_the_right_site(
    kb, minicloud_sites
):
    site_a, site_b = (minicloud_sites[n] for n in EXEC_SITES)
    app = kb.appliance()
    action = kb.create(app, 'web', site_a.name, IMAGE, FLAVOR)
    done = kb.wait_action(action, 180)
    assert done['state'] == 'done', done
    assert done['result']['created'] is True
    (server,) = tagged(site_a, app, 'web')
    assert server.id == done['result']['server_id']
    assert server.status == 'ACTIVE'
    assert server.metadata['sodos:action'] == action
    assert 'sodos' in server.tags
    assert tagged(site_b, app, 'web') == []

    # The same request again, as a retried plan would send it.
    replay = kb.action(
        site_a.name,
        'server.create',
        {
            'appliance_id': app,
            'member': 'web',
            'image': IMAGE,
            'flavor': FLAVOR,
        },
    )
    again = kb.wait_action(replay, 120)
    assert again['state'] == 'done', again
    assert again['result'] == dict(done['result'], created=False)
    assert [s.id for s in tagged(site_a, app, 'web')] == [server.id]


def test_server_deleted_by_hand_is_reported_within_seconds(
    kb, minicloud_sites
):
    site_a = minicloud_sites[SITE_NAMES[0]]
    app = kb.appliance()
    action = kb.create(app, 'db', site_a.name, IMAGE, FLAVOR)
    assert kb.wait_action(action, 180)['state'] == 'done'
    key = '%s/db' % app
    kb.wait_monitoring(
        lambda m: (
            kbwriter.servers_by_site(m).get(site_a.name, {}).get(key)
            == 'ACTIVE'
        ),
        60,
        'the new server in the KB (instance.create.end)',
    )
    (server,) = tagged(site_a, app, 'db')
    started = time.monotonic()
    nova(site_a).servers.delete(server.id)
    kb.wait_monitoring(
        lambda m: key not in kbwriter.servers_by_site(m).get(site_a.name, {}),
        90,
        'the deletion in the KB (instance.delete.end)',
    )
    # Far below the 600 s of the periodic collection.
    assert time.monotonic() - started < 120


def test_capacity_reported_is_what_placement_says(kb, minicloud_sites):
    site_b = minicloud_sites[SITE_NAMES[1]]
    placement = ks_adapter.Adapter(
        site_b.session(),
        service_type='placement',
        region_name=site_b.region,
        interface='public',
        default_microversion='1.20',
    )
    expected = {'VCPU': 0.0, 'MEMORY_MB': 0.0, 'DISK_GB': 0.0}
    used = dict.fromkeys(expected, 0.0)
    for rp in placement.get('/resource_providers').json()[
        'resource_providers'
    ]:
        url = '/resource_providers/%s' % rp['uuid']
        inventories = placement.get(url + '/inventories').json()
        usages = placement.get(url + '/usages').json()['usages']
        for rc, inv in inventories['inventories'].items():
            if rc in expected:
                expected[rc] += (inv['total'] - inv['reserved']) * inv[
                    'allocation_ratio'
                ]
                used[rc] += usages.get(rc, 0)
    report = kb.api.read('monitoring')[site_b.name]['summary']
    capacity = report['capacity']
    assert capacity['vcpu'] == {
        'total': expected['VCPU'],
        'used': used['VCPU'],
    }
    assert capacity['ram_mb'] == {
        'total': expected['MEMORY_MB'],
        'used': used['MEMORY_MB'],
    }
    assert capacity['disk_gb'] == {
        'total': expected['DISK_GB'],
        'used': used['DISK_GB'],
    }
    assert expected['VCPU'] > 0
    assert IMAGE in report['images']
    assert report['api']['ok'] is True


MISSING_IMAGE_ID = '0b7e4f4c-54c2-4d9a-9d52-3c1f1a1d2e3f'


@pytest.mark.parametrize(
    'image, flavor, message',
    [
        # An id goes to Nova as it is: Nova's own message.
        (MISSING_IMAGE_ID, FLAVOR, 'Can not find requested image (HTTP 400)'),
        # A name is looked up in Glance first.
        ('no-such-image', FLAVOR, 'Image no-such-image could not be found'),
        (IMAGE, 'no-such-flavor', 'Flavor no-such-flavor could not be found.'),
    ],
)
def test_bad_image_or_flavor_is_recorded_with_novas_message(
    kb, minicloud_sites, image, flavor, message
):
    site_b = minicloud_sites[SITE_NAMES[1]]
    app = kb.appliance()
    action = kb.create(app, 'bad', site_b.name, image, flavor)
    failed = kb.wait_action(action, 120)
    assert failed['state'] == 'failed', failed
    assert failed['result']['error'].startswith(message), failed
    assert 'transient' not in failed['result']
    assert tagged(site_b, app, 'bad') == []
