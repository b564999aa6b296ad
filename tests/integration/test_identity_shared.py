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

"""One token for every site: ``[identity]mode = shared`` on three real
OpenStack sites.

Three ``sodos-site`` processes, each writing its own minicloud Keystone's
database (same ids everywhere) and key repository (the federation's
fernet keys), copying revocation events both ways and listing the other
sites' regions in its Keystone. The identity is made through the real
``openstack sodos identity`` commands against the first site's API; the
user then logs in at one site and uses that token at the others'
Keystone, Glance and Nova.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from glanceclient import client as glance_client
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client
from novaclient import client as nova_client

from sodos.sim import ports
from tests.functional.test_osc import _openstack_command
from tests.integration import sodos_sites as sodos_sites_mod
from tests.integration.conftest import SITE_NAMES

SECRET = 'integration shared identity secret'
PROJECT = 'it-shared-project'
USER = 'it-shared-bob'
PASSWORD = 'it-bob-Passw0rd'
NEW = 'it-bob-n3w-Passw0rd'
ROLE = 'member'
WAIT = 120.0
ROTATION = 15.0
API_PORT = ports.free_port()
FIRST, SECOND, THIRD = SITE_NAMES


def shared_settings(settings, mc):
    settings['identity'] = {
        'mode': 'shared',
        'secret': SECRET,
        'keystone_database_connection': mc.database('keystone'),
        'fernet_key_repository': mc.layout.data('fernet-keys'),
        'fernet_rotation_interval': ROTATION,
        'sync_interval': 0.5,
        'audit_interval': 3,
        'revocation_sync_interval': 0.5,
    }
    if mc.name == FIRST:
        settings['DEFAULT'] = {'roles': ['knowmon', 'exec', 'api']}
        settings['api'] = {'auth_strategy': 'noauth', 'bind_port': API_PORT}


@pytest.fixture(scope='module')
def keys_kept(minicloud_sites, tmp_path_factory):
    """The sites' own fernet keys, put back at the end."""
    with sodos_sites_mod.fernet_keys_kept(
        minicloud_sites, str(tmp_path_factory.mktemp('fernet-saved'))
    ):
        yield


@pytest.fixture(scope='module')
def sodos_sites(minicloud_sites, keys_kept, tmp_path_factory):
    try:
        with sodos_sites_mod.running_federation(
            minicloud_sites,
            str(tmp_path_factory.mktemp('sodos-shared')),
            tune_site=shared_settings,
        ) as fed:
            yield fed
    finally:
        sodos_sites_mod.remove_remote_regions(minicloud_sites)


@pytest.fixture(scope='module')
def kb(sodos_sites):
    return sodos_sites.knowmon(sodos_sites.sites[FIRST])


def run_identity_cli(*args, stdin=None, timeout=120):
    """``openstack sodos identity ARGS`` against the first site's API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    return subprocess.run(
        [
            _openstack_command(),
            '--os-auth-type',
            'none',
            '--os-endpoint',
            'http://127.0.0.1:%d' % API_PORT,
            'sodos',
            'identity',
            *args,
        ],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def openstack_sodos(*args, stdin=None):
    done = run_identity_cli(*args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_for(check, what, timeout=WAIT):
    return sodos_sites_mod.wait_for(check, what, timeout)


def user_session(mc, password=PASSWORD):
    return ks_session.Session(
        auth=v3.Password(
            auth_url=mc.auth_url,
            username=USER,
            password=password,
            user_domain_id='default',
            project_name=PROJECT,
            project_domain_id='default',
        )
    )


def validate(mc, token):
    """Whether site ``mc``'s Keystone accepts ``token`` (as its admin)."""
    keystone = ks_client.Client(session=mc.session(), region_name=mc.region)
    try:
        keystone.tokens.validate(token)
    except ks_exc.NotFound:
        return False
    return True


def repositories(minicloud_sites):
    """Each site's key files, by index."""
    out = {}
    for name in SITE_NAMES:
        repo = minicloud_sites[name].layout.data('fernet-keys')
        files = {}
        for index in os.listdir(repo):
            with open(os.path.join(repo, index), 'rb') as f:
                files[index] = f.read()
        out[name] = files
    return out


def keys_generation(kb):
    repo = (kb.read('identity_keys') or {}).get('repo') or {}
    return repo.get('generation')


@pytest.fixture(scope='module')
def shared_keys(sodos_sites, kb, minicloud_sites):
    """Every site holds the federation's keys."""

    def same():
        repos = repositories(minicloud_sites)
        acks = (kb.read('identity_keys') or {}).get('acks') or {}
        return (
            len(acks) == len(SITE_NAMES)
            and len({json.dumps(sorted(r.items()), default=str)
                     for r in repos.values()}) == 1
        )  # fmt: skip

    wait_for(same, 'the same key repository at every site')


@pytest.fixture(scope='module')
def user(shared_keys, minicloud_sites):
    """A project, a user and a role assignment made through the CLI."""
    openstack_sodos('project', 'create', PROJECT, '-f', 'json')
    made = json.loads(
        openstack_sodos(
            'user', 'create', USER, '--password-stdin', '-f', 'json',
            stdin=PASSWORD + '\n',
        )
    )  # fmt: skip
    openstack_sodos(
        'role-assignment', 'create', '--role', ROLE, '--user', USER,
        '--project', PROJECT,
    )  # fmt: skip

    def everywhere():
        for name in SITE_NAMES:
            try:
                user_session(minicloud_sites[name]).get_token()
            except (ks_exc.Unauthorized, ks_exc.NotFound):
                return False
        return True

    wait_for(everywhere, 'a token of %s at every site' % USER)
    return made


def test_the_same_ids_at_every_site(user, minicloud_sites):
    ids = set()
    for name in SITE_NAMES:
        mc = minicloud_sites[name]
        keystone = ks_client.Client(
            session=mc.session(), region_name=mc.region
        )
        (found,) = keystone.users.list(name=USER)
        (project,) = keystone.projects.list(name=PROJECT)
        ids.add((found.id, project.id))
    # One user id and one project id: the federation's.
    assert len(ids) == 1
    assert ids.pop()[0] == user['id']


def test_a_token_from_one_site_works_at_the_others(user, minicloud_sites):
    first, second = minicloud_sites[FIRST], minicloud_sites[SECOND]
    token = user_session(first).get_token()
    for name in (SECOND, THIRD):
        assert validate(minicloud_sites[name], token), name
    # Glance and Nova of the second site, with the first site's token.
    glance = glance_client.Client(
        '2',
        session=ks_session.Session(
            auth=token_endpoint.Token(second.glance_url, token)
        ),
    )
    images = [i['name'] for i in glance.images.list()]
    assert 'fake-image' in images
    nova = nova_client.Client(
        '2.79',
        session=ks_session.Session(
            auth=token_endpoint.Token(second.nova_url, token)
        ),
    )
    image = next(i for i in glance.images.list() if i['name'] == 'fake-image')
    server = nova.servers.create(
        'it-shared-vm',
        image['id'],
        nova.flavors.find(name='m1.tiny'),
        nics='none',
    )
    try:
        wait_for(
            lambda: nova.servers.get(server.id).status == 'ACTIVE',
            'the server ACTIVE at %s' % SECOND,
        )
        assert nova.servers.get(server.id).user_id == user['id']
    finally:
        nova.servers.delete(server.id)


def test_the_other_sites_regions_are_in_every_catalog(user, minicloud_sites):
    session = user_session(minicloud_sites[FIRST])
    for name in (SECOND, THIRD):
        mc = minicloud_sites[name]
        url = wait_for(
            lambda mc=mc: _endpoint(session, mc.region),
            'the image endpoint of %s in the catalog of %s' % (name, FIRST),
        )
        assert url.rstrip('/') == mc.glance_url.rstrip('/')
        # What `openstack --os-region-name` does with that catalog.
        glance = glance_client.Client(
            '2', session=session, region_name=mc.region
        )
        assert any(i['name'] == 'fake-image' for i in glance.images.list())


def _endpoint(session, region):
    session.invalidate()
    try:
        return session.get_endpoint(
            service_type='image', interface='public', region_name=region
        )
    except ks_exc.EndpointNotFound:
        return None


def test_a_token_revoked_at_one_site_is_refused_at_the_others(
    user, minicloud_sites
):
    first = minicloud_sites[FIRST]
    doomed = user_session(first).get_token()
    kept = user_session(first).get_token()
    for name in SITE_NAMES:
        assert validate(minicloud_sites[name], doomed)
    ks_client.Client(
        session=first.session(), region_name=first.region
    ).tokens.revoke_token(doomed)
    assert not validate(first, doomed)
    for name in (SECOND, THIRD):
        wait_for(
            lambda n=name: not validate(minicloud_sites[n], doomed),
            'the revocation at %s' % name,
        )
        assert validate(minicloud_sites[name], kept)


def test_rotations_keep_every_sites_tokens_valid(user, kb, minicloud_sites):
    tokens = {
        name: user_session(minicloud_sites[name]).get_token()
        for name in SITE_NAMES
    }
    start = keys_generation(kb)
    assert start is not None
    for step in (1, 2):
        wait_for(
            lambda s=step: (keys_generation(kb) or 0) >= start + s,
            'rotation %d' % step,
            timeout=ROTATION * 4 + 30,
        )
        # Throughout: every token made before, at every site.
        for issued_at, token in tokens.items():
            for name in SITE_NAMES:
                assert validate(minicloud_sites[name], token), (
                    'a token of %s refused at %s after rotation %d'
                    % (issued_at, name, step)
                )
        # And a token made with the new primary key, everywhere.
        fresh = user_session(minicloud_sites[THIRD]).get_token()
        for name in SITE_NAMES:
            wait_for(
                lambda n=name, t=fresh: validate(minicloud_sites[n], t),
                'a new token of %s valid at %s' % (THIRD, name),
                timeout=30,
            )


def test_a_new_password_revokes_the_old_tokens_everywhere(
    user, minicloud_sites
):
    old = user_session(minicloud_sites[SECOND]).get_token()
    openstack_sodos('user', 'set', USER, '--password-stdin', stdin=NEW + '\n')

    def new_works(mc):
        try:
            return bool(user_session(mc, NEW).get_token())
        except (ks_exc.Unauthorized, ks_exc.NotFound):
            return False

    for name in SITE_NAMES:
        mc = minicloud_sites[name]
        wait_for(lambda mc=mc: new_works(mc), 'the new password at ' + name)
        wait_for(
            lambda mc=mc: not validate(mc, old),
            'the token of the old password refused at ' + name,
        )


def test_deleting_the_user_propagates(user, minicloud_sites):
    openstack_sodos('user', 'delete', USER)

    def gone():
        for name in SITE_NAMES:
            mc = minicloud_sites[name]
            keystone = ks_client.Client(
                session=mc.session(), region_name=mc.region
            )
            if keystone.users.list(name=USER):
                return False
        return True

    wait_for(gone, '%s deleted at every site' % USER)
    openstack_sodos('project', 'delete', PROJECT)
