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

"""Image distribution across three real OpenStack sites, end to end.

Three ``sodos-site`` processes (KnowMon, Exec with the openstack driver
and its image relay, AnalysePlan, and the REST API without Keystone),
one per minicloud site. An image uploaded to site A's Glance is
distributed with the real ``openstack sodos`` command and reaches
every site with its id, metadata and hash; an appliance that may run
only on site C, whose image is only at A, gets the image copied to C
first, then its server boots there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
from novaclient import client as nova_client

from sodos.sim import ports
from tests import clouds
from tests import kbwriter
from tests.integration import sodos_sites
from tests.integration.conftest import SITE_NAMES

A, B, C = SITE_NAMES
SIZE = 3 * 1048576 + 1234
PROPERTIES = {'os_distro': 'cirros', 'hw_disk_bus': 'scsi'}
SAME = clouds.SAME_AT_EVERY_SITE + tuple(PROPERTIES)


@pytest.fixture(scope='module')
def images_fed(minicloud_sites, tmp_path_factory):
    """The federation, and each site's API URL."""
    urls = []

    def tune(settings):
        port = ports.free_port()
        urls.append('http://127.0.0.1:%d' % port)
        # Summaries often: registration and the planner read them.
        settings['exec']['monitor_interval'] = 3
        settings['analyseplan'] = {'loop_interval': 1.0}
        settings['api'] = {'auth_strategy': 'noauth', 'bind_port': port}
        settings['DEFAULT'] = {
            'roles': ['knowmon', 'exec', 'analyseplan', 'api']
        }

    with sodos_sites.running_federation(
        minicloud_sites,
        str(tmp_path_factory.mktemp('sodos-images')),
        voter_count=3,
        tune=tune,
    ) as fed:
        yield fed, dict(zip(SITE_NAMES, urls, strict=True))


def wait_listed(fed, image_id, site, via):
    """Until the site's monitoring summary lists the image active, as
    site ``via``'s member of the KB (whose API is called next) sees it."""
    kb = kbwriter.KBWriter(fed.knowmon(fed.sites[via]), origin='it')

    def listed(monitoring):
        summary = (monitoring.get(site) or {}).get('summary') or {}
        found = (summary.get('image_details') or {}).get(image_id) or {}
        return found.get('status') == 'active'

    kb.wait_monitoring(listed, 60, 'image %s listed by %s' % (image_id, site))
    return kb


def call(url, method, path, body=None):
    request = urllib.request.Request(
        url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={'Content-Type': 'application/json'},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def openstack(url, *args):
    """The real ``openstack`` command with the sodos plugin."""
    command = shutil.which(
        'openstack', path=os.path.dirname(sys.executable)
    ) or shutil.which('openstack')
    assert command, 'python-openstackclient is not installed'
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.run(
        [command, '--os-auth-type', 'none', '--os-endpoint', url] + list(args),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_image_reaches_every_site_with_its_id_metadata_and_hash(
    images_fed, minicloud_sites
):
    fed, urls = images_fed
    image = clouds.upload_random(
        minicloud_sites[A],
        'it-distributed',
        SIZE,
        min_disk=1,
        min_ram=64,
        visibility='public',
        tags=['gold'],
        **PROPERTIES,
    )
    wait_listed(fed, image['id'], A, via=A)
    done = openstack(
        urls[A], 'sodos', 'image', 'distribute', image['id'],
        '--to', 'all', '--wait', '--timeout', '300', '-f', 'json',
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 'image it-distributed: 3/3 sites present' in done.stderr
    shown = json.loads(done.stdout)
    assert shown['origin_site'] == A
    assert shown['os_hash_value'] == image['os_hash_value']
    for name in (B, C):
        copied = clouds.glance(minicloud_sites[name]).images.get(image['id'])
        assert copied['status'] == 'active'
        assert {k: copied[k] for k in SAME} == {k: image[k] for k in SAME}
        assert copied['tags'] == ['gold']
    status = openstack(
        urls[C], 'sodos', 'image', 'copy', 'list', image['id'], '-f', 'json'
    )
    assert status.returncode == 0, status.stderr
    assert {r['Site']: r['State'] for r in json.loads(status.stdout)} == {
        A: 'present',
        B: 'present',
        C: 'present',
    }


def servers(mc, appliance_id):
    nova = nova_client.Client(
        '2.79', session=mc.session(), region_name=mc.region
    )
    return [
        s
        for s in nova.servers.list()
        if s.metadata.get('sodos:appliance') == appliance_id
    ]


def test_a_member_waits_for_its_image_then_boots_where_it_was_copied(
    images_fed, minicloud_sites
):
    fed, urls = images_fed
    image = clouds.upload_random(minicloud_sites[A], 'it-needed', SIZE)
    kb = wait_listed(fed, image['id'], A, via=B)
    glance_b = clouds.glance(minicloud_sites[B])
    registered = call(
        urls[B], 'POST', '/v1/images', {'image': {'id': image['id']}}
    )
    assert registered['image']['target'] == {'kind': 'needed'}
    spec = {
        'name': 'at-c',
        'members': [
            {'name': 'web', 'image': image['id'], 'flavor': 'm1.tiny'}
        ],
        'constraints': {'sites': [C]},
    }
    app = call(urls[B], 'POST', '/v1/appliances', {'appliance': spec})
    app_id = app['appliance']['id']
    deadline = time.monotonic() + 300
    found = []
    while time.monotonic() < deadline:
        found = servers(minicloud_sites[C], app_id)
        if found and found[0].status == 'ACTIVE':
            break
        assert not found or found[0].status != 'ERROR', found[0].fault
        time.sleep(2)
    assert found and found[0].status == 'ACTIVE', found
    assert found[0].image['id'] == image['id']
    # The copy to C ended before the server was asked for. (Exec records
    # the create done a poll after Nova shows the server ACTIVE.)
    deadline = time.monotonic() + 60
    while True:
        actions = kb.api.read('actions').values()
        pending = [
            a
            for a in actions
            if a['params'].get('appliance_id') == app_id
            and a['state'] not in ('done', 'failed')
        ]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(1)
    copies = [
        a
        for a in actions
        if a['kind'] == 'image.copy' and a['params']['image_id'] == image['id']
    ]
    creates = [
        a
        for a in actions
        if a['kind'] == 'server.create'
        and a['params'].get('appliance_id') == app_id
    ]
    assert {a['site'] for a in copies} == {C}
    done = [a for a in copies if a['state'] == 'done']
    assert len(done) == 1, copies
    assert [(a['site'], a['state']) for a in creates] == [(C, 'done')]
    assert creates[0]['created_at'] >= done[0]['updated_at']
    # Needed at C only: no other site got it.
    assert image['id'] not in {i['id'] for i in glance_b.images.list()}
