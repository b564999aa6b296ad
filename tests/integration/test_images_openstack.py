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

"""Image copies between two real OpenStack sites through the relay.

Site A's Exec (openstack driver) serves its Glance through its image
relay; site B runs KnowMon (a one-member Raft KB) and Exec, which carries
out ``image.copy`` actions from the KB: it signs the relay URL, streams
the image from A and uploads it into B's Glance, verifying on the fly.
The tests look at both Glances with the official client.
"""

from __future__ import annotations

import time

import pytest

from sodos.exec import role as exec_role
from sodos.exec.drivers.openstack import driver as os_driver
from sodos.exec.images import relay as image_relay
from sodos.knowmon import role as knowmon_role
from sodos.sim import ports
from tests import clouds
from tests import kbwriter

SIZE = 3 * 1048576 + 4321
PROPERTIES = {'os_distro': 'cirros', 'hw_disk_bus': 'scsi', 'sodos_it': 'yes'}
SAME = clouds.SAME_AT_EVERY_SITE + tuple(PROPERTIES)


def sodos_conf_for(mc, root):
    return clouds.load_conf(
        root,
        {
            'DEFAULT': {'site_name': mc.name, 'state_path': root},
            'raft': {
                'address': ports.free_address(),
                'password': 'images-it-password',
                'data_dir': root + '/raft',
            },
            'knowmon': {'serve_rpc': False},
            'exec': {
                'driver': 'openstack',
                'loop_interval': 0.2,
                'poll_interval': 0.5,
                'retry_delay': 0.5,
                'action_retries': 1,
                'monitor_interval': 3600,
            },
            'site_auth': clouds.site_auth(mc),
        },
    )


@pytest.fixture(scope='module')
def source(site_a, tmp_path_factory):
    """Site A's relay over its Glance (the Exec role's relay, alone)."""
    conf = sodos_conf_for(site_a, str(tmp_path_factory.mktemp('site-a')))
    drv = os_driver.OpenStackDriver(conf)
    relay = image_relay.Relay(conf, drv)
    relay.start()
    yield relay
    relay.stop()
    drv.close()


@pytest.fixture(scope='module')
def target(site_b, tmp_path_factory):
    """Site B: KnowMon on a one-member Raft KB, and Exec."""
    conf = sodos_conf_for(site_b, str(tmp_path_factory.mktemp('site-b')))
    knowmon = knowmon_role.KnowMonRole(conf)
    knowmon.start()
    assert knowmon.backend.wait_ready(30)
    deadline = time.monotonic() + 30
    while site_b.name not in knowmon.api.read('sites'):
        assert time.monotonic() < deadline, 'site B did not register'
        time.sleep(0.1)
    role = exec_role.ExecRole(conf, knowmon.api)
    role.start()
    yield kbwriter.KBWriter(knowmon.api, origin='it'), role
    role.stop()
    knowmon.stop()


def upload(mc, name):
    """A new image of random bytes at the site, with metadata."""
    return clouds.upload_random(
        mc,
        name,
        SIZE,
        min_disk=1,
        min_ram=64,
        visibility='public',
        tags=['gold', 'sodos-it'],
        **PROPERTIES,
    )


def copy_params(image, relay):
    metadata = {
        'name': image['name'],
        'disk_format': image['disk_format'],
        'container_format': image['container_format'],
        'min_disk': image['min_disk'],
        'min_ram': image['min_ram'],
        'visibility': image['visibility'],
        'tags': list(image['tags']),
        'properties': {k: image[k] for k in PROPERTIES},
    }
    return clouds.copy_params(image, 'a', relay.url, metadata)


def copy(kb, site, params):
    action = kb.action(site.name, 'image.copy', params)
    return kb.wait_action(action, 180)


def test_image_is_copied_with_its_id_metadata_and_hash(
    source, target, site_a, site_b
):
    kb, role = target
    sites = kb.api.read('sites')
    assert sites[site_b.name]['info']['profile']['image_relay'] == (
        role.relay.url
    )
    image = upload(site_a, 'it-golden')
    done = copy(kb, site_b, copy_params(image, source))
    assert done['state'] == 'done', done
    assert done['result']['created'] is True
    copied = clouds.glance(site_b).images.get(image['id'])
    assert copied['status'] == 'active'
    assert {k: copied[k] for k in SAME} == {k: image[k] for k in SAME}
    assert sorted(copied['tags']) == sorted(image['tags'])
    # The same action again (a retried plan): nothing is fetched.
    sent = source.sent
    again = copy(kb, site_b, copy_params(image, source))
    assert again['state'] == 'done', again
    assert again['result']['created'] is False
    assert source.sent == sent
    # And the monitoring summary reports it, with its hash.
    role.monitor_once()
    summary = role.last_summary
    assert (
        summary['image_details'][image['id']]['os_hash_value']
        == (image['os_hash_value'])
    )


def test_corrupted_transfer_fails_and_a_retry_succeeds_with_the_same_id(
    source, target, site_a, site_b
):
    kb, _ = target
    image = upload(site_a, 'it-corrupted')
    source.conf.set_override('test_corrupt_byte_at', SIZE // 2, 'image_relay')
    try:
        failed = copy(kb, site_b, copy_params(image, source))
    finally:
        source.conf.clear_override('test_corrupt_byte_at', 'image_relay')
    assert failed['state'] == 'failed', failed
    assert failed['result']['error'].startswith('hash mismatch'), failed
    assert 'id_burnt' not in failed['result']
    half = clouds.glance(site_b).images.get(image['id'])
    assert half['status'] != 'active'
    done = copy(kb, site_b, copy_params(image, source))
    assert done['state'] == 'done', done
    assert done['result']['created'] is True
    copied = clouds.glance(site_b).images.get(image['id'])
    assert copied['status'] == 'active'
    assert copied['os_hash_value'] == image['os_hash_value']
