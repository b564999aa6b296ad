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

"""Image copies fetched by the receiving site's own Glance
(glance-download), on two real OpenStack sites in
``[identity]mode = shared``.

Two ``sodos-site`` processes share their identity (same ids, the
federation's fernet keys, each site's region listed in the other's
Keystone). The transfer user is made through the real ``openstack sodos
identity`` commands, with the admin role on a federation project, and
named in each site's ``[image_transfer]`` (method ``auto``). An image
uploaded at A is distributed to B with ``openstack sodos image
distribute``: B's Glance pulls it from A's, and it arrives with its id,
metadata and hash. An image whose stored bytes rotted at A is pulled
all the same (Glance checks only the size): sodos' check finds the
other hash, and the copy is deleted.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from glanceclient import client as glance_client
from glanceclient import exc as glance_exc
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from keystoneauth1.identity import v3

from sodos.sim import ports
from tests import clouds
from tests import kbwriter
from tests.functional.test_osc import _openstack_command
from tests.integration import sodos_sites
from tests.integration.conftest import SITE_NAMES

A, B = SITE_NAMES[:2]
SECRET = 'integration glance-download secret'
PROJECT = 'it-gd-images'
USER = 'it-gd-images'
PASSWORD = 'it-gd-Passw0rd'
WAIT = 120.0
SIZE = 2 * 1048576 + 321
PROPERTIES = {'os_distro': 'cirros', 'hw_disk_bus': 'scsi', 'sodos_it': 'gd'}
SAME = clouds.SAME_AT_EVERY_SITE + tuple(PROPERTIES)
API_PORT = ports.free_port()


def settings_for(settings, mc):
    settings['identity'] = {
        'mode': 'shared',
        'secret': SECRET,
        'keystone_database_connection': mc.database('keystone'),
        'fernet_key_repository': mc.layout.data('fernet-keys'),
        'sync_interval': 0.5,
        'audit_interval': 3,
        'revocation_sync_interval': 0.5,
    }
    settings['image_transfer'] = {
        'method': 'auto',
        'poll_interval': 0.5,
        'import_timeout': 120,
        'auth_type': 'password',
        'auth_url': mc.auth_url,
        'username': USER,
        'password': PASSWORD,
        'project_name': PROJECT,
        'user_domain_id': 'default',
        'project_domain_id': 'default',
    }
    # Summaries often: `image distribute` reads them.
    settings['exec']['monitor_interval'] = 3
    settings['analyseplan'] = {'loop_interval': 1.0}
    if mc.name == A:
        settings['DEFAULT'] = {
            'roles': ['knowmon', 'exec', 'analyseplan', 'api']
        }
        settings['api'] = {'auth_strategy': 'noauth', 'bind_port': API_PORT}


def openstack(*args, stdin=None):
    """The real ``openstack`` command against site A's sodos API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    done = subprocess.run(
        [
            _openstack_command(),
            '--os-auth-type', 'none',
            '--os-endpoint', 'http://127.0.0.1:%d' % API_PORT,
            'sodos', *args,
        ],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def wait_for(check, what, timeout=WAIT):
    return sodos_sites.wait_for(check, what, timeout)


def transfer_session(mc):
    return ks_session.Session(
        auth=v3.Password(
            auth_url=mc.auth_url,
            username=USER,
            password=PASSWORD,
            user_domain_id='default',
            project_name=PROJECT,
            project_domain_id='default',
        )
    )


@pytest.fixture(scope='module')
def fed(minicloud_sites, tmp_path_factory):
    try:
        with sodos_sites.fernet_keys_kept(
            minicloud_sites, str(tmp_path_factory.mktemp('fernet-saved'))
        ):
            with sodos_sites.running_federation(
                minicloud_sites,
                str(tmp_path_factory.mktemp('sodos-gd')),
                names=[A, B],
                tune_site=settings_for,
            ) as running:
                yield running
                # While the federation runs: it deletes them everywhere.
                openstack('identity', 'user', 'delete', USER)
                openstack('identity', 'project', 'delete', PROJECT)
    finally:
        sodos_sites.remove_remote_regions(minicloud_sites)


@pytest.fixture(scope='module')
def kb(fed):
    return kbwriter.KBWriter(fed.knowmon(fed.sites[A]), origin='it')


@pytest.fixture(scope='module')
def transfer_user(fed, kb, minicloud_sites):
    """The transfer user, made through the federation's identity, whose
    token works at both sites, and A's Glance in B's catalog."""

    def keys_shared():
        acks = (kb.api.read('identity_keys') or {}).get('acks') or {}
        return len(acks) == 2

    wait_for(keys_shared, 'the federation keys at both sites')
    openstack('identity', 'project', 'create', PROJECT)
    openstack(
        'identity', 'user', 'create', USER, '--password-stdin',
        stdin=PASSWORD + '\n',
    )  # fmt: skip
    openstack(
        'identity', 'role-assignment', 'create', '--role', 'admin',
        '--user', USER, '--project', PROJECT,
    )  # fmt: skip
    at_b = transfer_session(minicloud_sites[B])

    def ready():
        try:
            token = transfer_session(minicloud_sites[A]).get_token()
            # A's token at B's Glance: the shared identity works.
            at_glance_b = glance_client.Client(
                '2',
                session=ks_session.Session(
                    auth=token_endpoint.Token(
                        minicloud_sites[B].glance_url, token
                    )
                ),
            )
            list(at_glance_b.images.list(limit=1))
            at_b.invalidate()
            return at_b.get_endpoint(
                service_type='image',
                interface='public',
                region_name=minicloud_sites[A].region,
            )
        except (ks_exc.ClientException, glance_exc.HTTPException):
            return None

    url = wait_for(ready, "%s's token at %s, and %s's Glance listed" % (
        USER, B, A))  # fmt: skip
    assert url.rstrip('/') == minicloud_sites[A].glance_url.rstrip('/')


def upload(mc, name):
    return clouds.upload_random(
        mc,
        name,
        SIZE,
        min_disk=1,
        min_ram=64,
        visibility='public',
        tags=['gold'],
        **PROPERTIES,
    )


def wait_listed(kb, image_id, site):
    def listed(monitoring):
        summary = (monitoring.get(site) or {}).get('summary') or {}
        found = (summary.get('image_details') or {}).get(image_id) or {}
        return found.get('status') == 'active'

    kb.wait_monitoring(listed, 60, 'image %s listed by %s' % (image_id, site))


def copies(kb, image_id):
    return [
        a
        for a in kb.api.read('actions').values()
        if a['kind'] == 'image.copy' and a['params']['image_id'] == image_id
    ]


def test_an_image_is_pulled_by_glance_download_with_its_id_and_metadata(
    transfer_user, kb, minicloud_sites
):
    image = upload(minicloud_sites[A], 'it-gd-golden')
    wait_listed(kb, image['id'], A)
    done = openstack(
        'image', 'distribute', image['id'], '--to', B,
        '--wait', '--timeout', '300', '-f', 'json',
    )  # fmt: skip
    assert json.loads(done.stdout)['os_hash_value'] == image['os_hash_value']
    (action,) = copies(kb, image['id'])
    assert action['site'] == B
    assert action['state'] == 'done', action
    assert action['result']['method'] == 'glance-download', action
    assert action['result']['created'] is True
    copied = clouds.glance(minicloud_sites[B]).images.get(image['id'])
    assert copied['status'] == 'active'
    assert {k: copied[k] for k in SAME} == {k: image[k] for k in SAME}
    assert copied['tags'] == ['gold']
    openstack('image', 'delete', image['id'], '--wait', '--timeout', '120')


def test_bytes_rotten_at_the_source_are_caught_and_the_copy_deleted(
    transfer_user, kb, fed, minicloud_sites
):
    source = minicloud_sites[A]
    # Private to A's admin project: the transfer user reads it as admin.
    image = clouds.upload_random(source, 'it-gd-rotten', SIZE)
    assert image['visibility'] != 'public'
    # Glance serves what its store holds, unchecked: one byte flipped.
    stored = source.layout.data('images', image['id'])
    with open(stored, 'r+b') as f:
        f.seek(SIZE // 2)
        byte = f.read(1)
        f.seek(SIZE // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    relay = kb.api.read('sites')[A]['info']['profile']['image_relay']
    metadata = {
        'name': image['name'],
        'disk_format': image['disk_format'],
        'container_format': image['container_format'],
    }
    action = kb.action(
        B, 'image.copy', clouds.copy_params(image, A, relay, metadata)
    )
    failed = kb.wait_action(action, 180)
    assert failed['state'] == 'failed', failed
    result = failed['result']
    assert result['error'].startswith('hash mismatch'), result
    assert 'the copy was deleted' in result['error']
    assert result['id_burnt'] is True
    assert result['method'] == 'glance-download'
    with pytest.raises(glance_exc.HTTPNotFound):
        clouds.glance(minicloud_sites[B]).images.get(image['id'])
    clouds.glance(source).images.delete(image['id'])
