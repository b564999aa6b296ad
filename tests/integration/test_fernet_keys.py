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

"""Shared fernet keys and revocations against real Keystone code.

* sodos's rotation against Keystone's own ``FernetUtils`` (no site);
* the revocation copier against the ``revocation_event`` table that
  ``keystone-manage db_sync`` makes in a fresh MariaDB database;
* on two of the session's minicloud sites: the leader's keys written
  into both Keystones' key repositories by Exec's loop, after which a
  token issued at one site validates at the other, through one
  undistributed rotation; and a token revoked at one site refused at the
  other once its revocation event is copied.

The sodos side runs in this process on an in-memory KB (the leader's
and each site's Exec code, as the daemons run them); the sites' keys are
put back at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from unittest import mock

import pytest
import sqlalchemy
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.exec.drivers.openstack import driver as os_driver
from sodos.exec.drivers.openstack import keystone_revocations
from sodos.exec.identity import keys as exec_keys
from sodos.identity import fernet
from sodos.identity import fernet_repo
from sodos.kb import commands
from sodos.kb import identity_keys
from sodos.kb import memory
from sodos.knowmon import fernet_rotation
from sodos.knowmon import manager
from tests import minicloud
from tests.minicloud import backends

SECRET = 'integration fernet secret'
MAX_KEYS = 4


# -- rotation: Keystone's own code --------------------------------------------


def _keystone_fernet_utils(directory, max_keys):
    fernet_utils = pytest.importorskip('keystone.common.fernet_utils')
    return fernet_utils.FernetUtils(directory, max_keys, 'fernet_tokens')


@pytest.mark.parametrize('max_keys', [3, 4, 5])
def test_rotation_matches_keystone_fernet_rotate(tmp_path, max_keys):
    directory = str(tmp_path / 'keys')
    os.mkdir(directory, 0o700)
    utils = _keystone_fernet_utils(directory, max_keys)
    utils.initialize_key_repository()
    ours = fernet_repo.read_repo(directory)
    assert sorted(ours) == sorted(fernet.initial_repo(max_keys))
    for _ in range(2 * max_keys):
        utils.rotate_keys()
        theirs = fernet_repo.read_repo(directory)
        # The same rotation given Keystone's new staged key.
        ours = fernet.rotate(ours, max_keys, theirs[0])
        assert ours == theirs


def test_keystone_reads_a_repository_sodos_wrote(tmp_path):
    from cryptography import fernet as crypto_fernet

    keystone_conf = pytest.importorskip('keystone.conf')
    if not hasattr(keystone_conf.CONF, 'fernet_tokens'):
        keystone_conf.configure()
        keystone_conf.CONF([], project='keystone', default_config_files=[])
    directory = str(tmp_path / 'keys')
    repo = fernet.rotate(fernet.initial_repo(3), 3, fernet.generate_key())
    fernet_repo.write_repo(directory, repo)
    loaded = _keystone_fernet_utils(directory, 3).load_keys()
    # Primary first, as Keystone orders them: it encrypts with key 2.
    assert loaded == [repo[2], repo[1], repo[0]]
    token = crypto_fernet.MultiFernet(
        [crypto_fernet.Fernet(k) for k in loaded]
    ).encrypt(b'payload')
    assert crypto_fernet.Fernet(repo[2]).decrypt(token) == b'payload'


# -- revocations: Keystone's own schema ---------------------------------------


@pytest.fixture
def keystone_database(tmp_path):
    """A fresh Keystone database made by keystone-manage db_sync."""
    base = os.environ.get(
        'SODOS_TEST_MARIADB_URL', minicloud.DEFAULT_DATABASE_URL
    )
    if not backends.reachable(base, 3306):
        pytest.skip('MariaDB is not reachable at %s' % base)
    manage = os.path.join(os.path.dirname(sys.executable), 'keystone-manage')
    if not os.path.exists(manage):
        pytest.skip('keystone-manage is not installed in this venv')
    name = 'sodos_it_revocations_%d' % os.getpid()
    url = backends.database_url(base, name)
    config = tmp_path / 'keystone.conf'
    config.write_text('[database]\nconnection = %s\n' % url)
    backends.recreate_databases(base, [name])
    try:
        done = subprocess.run(
            [manage, '--config-file', str(config), 'db_sync'],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        yield url
    finally:
        backends.drop_databases(base, [name])


def test_revocation_table_on_keystone_schema(keystone_database):
    table = keystone_revocations.RevocationTable(keystone_database)
    now = int(time.time())  # Keystone's events are whole seconds
    at = identity_keys.time_at(now - 10)
    old = identity_keys.time_at(now - 7200)
    events = [
        {'audit_id': 'AbCdEfGhIjKlMnOpQrStUv'},
        {'user_id': uuid.uuid4().hex, 'expires_at': at},
        {'audit_id': 'old'},
    ]
    for event, moment in zip(events, (at, at, old), strict=True):
        event.update(issued_before=moment, revoked_at=moment)
    try:
        assert table.insert(events) == 3
        since = identity_keys.time_at(now - 3600)
        found = table.list_events(since)
        # The same content comes back (Keystone numbered the rows).
        assert sorted(map(identity_keys.event_key, found)) == sorted(
            map(identity_keys.event_key, events[:2])
        )
    finally:
        table.close()


# -- two real sites -----------------------------------------------------------


def _site_conf(mc, tmp_path):
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('site_name', mc.name)
    conf.set_override('state_path', str(tmp_path / mc.name))
    conf.set_override('state_backend', 'memory', 'knowmon')
    conf.set_override('driver', 'openstack', 'exec')
    settings = {
        'mode': 'shared',
        'secret': SECRET,
        'fernet_key_repository': mc.layout.data('fernet-keys'),
        'keystone_database_connection': mc.database('keystone'),
        'fernet_max_active_keys': MAX_KEYS,
        # The test steps the leader's clock one interval ahead: keep it
        # short, or the step would also prune the revocation events the
        # earlier tests left (and with them the ones this test copies).
        'fernet_rotation_interval': 60.0,
    }
    for name, value in settings.items():
        conf.set_override(name, value, 'identity')
    return conf


def _exec_driver(mc, conf):
    """The openstack Exec driver of ``conf``, on the minicloud's admin
    session (``conf`` has no ``[site_auth]``)."""
    with mock.patch.object(os_driver, 'session', return_value=mc.session()):
        return os_driver.OpenStackDriver(conf)


def _post_token(mc, username, password):
    from keystoneauth1 import session as ks_session

    body = {
        'auth': {
            'identity': {
                'methods': ['password'],
                'password': {
                    'user': {
                        'name': username,
                        'domain': {'id': 'default'},
                        'password': password,
                    }
                },
            }
        }
    }
    resp = ks_session.Session().post(
        mc.auth_url + '/auth/tokens', json=body, authenticated=False
    )
    return resp.headers['X-Subject-Token']


def _validate(mc, token):
    """The status of ``GET /v3/auth/tokens`` for ``token`` at ``mc``."""
    return (
        mc.session()
        .get(
            mc.auth_url + '/auth/tokens',
            headers={'X-Subject-Token': token},
            raise_exc=False,
        )
        .status_code
    )


def _copy_user(src, dst, user_id):
    """The user's rows, as the shared-mode DB writer would put them."""
    src_engine = sqlalchemy.create_engine(src.database('keystone'))
    dst_engine = sqlalchemy.create_engine(dst.database('keystone'))
    try:
        with src_engine.connect() as conn:
            meta = sqlalchemy.MetaData()
            user = sqlalchemy.Table('user', meta, autoload_with=conn)
            local = sqlalchemy.Table('local_user', meta, autoload_with=conn)
            user_row = dict(
                conn.execute(user.select().where(user.c.id == user_id))
                .mappings()
                .one()
            )
            local_row = dict(
                conn.execute(local.select().where(local.c.user_id == user_id))
                .mappings()
                .one()
            )
        local_row.pop('id')  # autoincrement: the destination numbers it
        with dst_engine.begin() as conn:
            conn.execute(user.insert(), [user_row])
            conn.execute(local.insert(), [local_row])
    finally:
        src_engine.dispose()
        dst_engine.dispose()


@pytest.fixture
def two_sites(minicloud_sites, tmp_path):
    """Sites a and b, their keys put back afterwards."""
    from tests.integration.conftest import SITE_NAMES

    sites = [minicloud_sites[SITE_NAMES[0]], minicloud_sites[SITE_NAMES[1]]]
    saved = {
        mc.name: fernet_repo.read_repo(mc.layout.data('fernet-keys'))
        for mc in sites
    }
    yield sites
    for mc in sites:
        fernet_repo.write_repo(mc.layout.data('fernet-keys'), saved[mc.name])


def test_one_token_for_two_sites(two_sites, tmp_path):
    from keystoneclient.v3 import client as ks_client

    site_a, site_b = two_sites
    conf_a = _site_conf(site_a, tmp_path)
    conf_b = _site_conf(site_b, tmp_path)
    backend = memory.MemoryBackend(conf_a)
    backend.start()
    api = manager.LocalKnowMonAPI(manager.KnowMonManager(backend, conf_a))
    for mc in two_sites:
        backend.submit(
            commands.make(
                'site.register',
                {'site': mc.name, 'address': mc.name + ':1'},
                mc.name,
            )
        )
    leader = fernet_rotation.FernetRotation(conf_a, backend)
    sync_a = exec_keys.make(conf_a, _exec_driver(site_a, conf_a), lambda: api)
    sync_b = exec_keys.make(conf_b, _exec_driver(site_b, conf_b), lambda: api)

    # A user at site a, copied into site b's database with its id.
    name = 'it-fernet-%s' % uuid.uuid4().hex[:8]
    password = 'it-fernet-Passw0rd'
    keystone_a = ks_client.Client(session=site_a.session())
    user = keystone_a.users.create(
        name=name, domain='default', password=password
    )
    try:
        _copy_user(site_a, site_b, user.id)
        before = _post_token(site_a, name, password)
        assert _validate(site_a, before) == 200
        assert _validate(site_b, before) == 404  # each site its own keys

        assert leader.step() == ['fernet keys: initial keys, generation 1']
        for sync in (sync_a, sync_b):
            line = sync.run_once()
            assert 'generation 1 written and acknowledged' in line, line
        token = _post_token(site_a, name, password)
        assert _validate(site_b, token) == 200
        # Site a's keys were replaced: its older tokens are gone.
        assert _validate(site_a, before) == 404

        # One rotation not yet at site b: a's new primary is the staged
        # key b already holds.
        repo = identity_keys.section(backend.read('identity_keys'))['repo']
        due = repo['rotated_at'] + conf_a.identity.fernet_rotation_interval
        done = leader.step(now=due)
        assert done[0] == 'fernet keys: rotation, generation 2', done
        assert 'generation 2 written' in sync_a.run_once()
        rotated = _post_token(site_a, name, password)
        assert _validate(site_b, rotated) == 200
        # No second rotation until b holds generation 2 (lock-step).
        repo = identity_keys.section(backend.read('identity_keys'))['repo']
        due = repo['rotated_at'] + conf_a.identity.fernet_rotation_interval
        assert leader.step(now=due)[0] == (
            'fernet key rotation waits for %s to hold generation 2'
            % site_b.name
        )
        assert 'generation 2 written' in sync_b.run_once()

        # A token revoked at a is refused at b once its event is copied.
        site_a.session().delete(
            site_a.auth_url + '/auth/tokens',
            headers={'X-Subject-Token': rotated},
        )
        assert _validate(site_a, rotated) == 404
        assert _validate(site_b, rotated) == 200
        assert 'added to the KB' in sync_a.run_once()
        assert 'copied into Keystone' in sync_b.run_once()
        assert _validate(site_b, rotated) == 404
        # Another token of the same user is still good everywhere.
        fresh = _post_token(site_a, name, password)
        assert _validate(site_b, fresh) == 200
    finally:
        for sync in (sync_a, sync_b):
            sync.revocations.close()
        backend.stop()
        keystone_a.users.delete(user.id)
        ks_client.Client(session=site_b.session()).users.delete(user.id)
