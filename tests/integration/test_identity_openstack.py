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

"""One set of credentials at three real OpenStack sites.

Three ``sodos-site`` processes (one Raft federation, RPC over RabbitMQ),
each converging its own minicloud Keystone to the KB's identity through
the Keystone API (``[identity]mode = api``). The test writes the
identity with ``openstack sodos identity`` (the first site serves the
REST API) and the Python API, logs in at every site with keystoneauth as
the new user, and makes hand edits with python-keystoneclient to see
them repaired.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client

from sodos.identity import crypto
from sodos.knowmon import identity_api
from sodos.sim import ports
from tests.functional.test_osc import _openstack_command
from tests.integration import sodos_sites as sodos_sites_mod
from tests.integration.conftest import SITE_NAMES

SECRET = 'integration identity secret'
PROJECT = 'it-identity-project'
USER = 'it-identity-alice'
PASSWORD = 'it-alice-Passw0rd'
ROLE = 'member'
WAIT = 120.0
API_PORT = ports.free_port()


def identity_settings(settings, mc):
    settings['identity'] = {
        'mode': 'api',
        'secret': SECRET,
        'sync_interval': 0.5,
        'audit_interval': 3,
    }
    if mc.name == SITE_NAMES[0]:
        settings['DEFAULT'] = {
            'roles': ['knowmon', 'exec', 'analyseplan', 'api']
        }
        settings['api'] = {'auth_strategy': 'noauth', 'bind_port': API_PORT}


@pytest.fixture(scope='module')
def sodos_sites(minicloud_sites, tmp_path_factory):
    """A three-site sodos federation, one site per minicloud."""
    with sodos_sites_mod.running_federation(
        minicloud_sites,
        str(tmp_path_factory.mktemp('sodos-identity')),
        tune_site=identity_settings,
    ) as fed:
        yield fed


@pytest.fixture(scope='module')
def kb(sodos_sites):
    return sodos_sites.knowmon(sodos_sites.sites[SITE_NAMES[0]])


@pytest.fixture(scope='module')
def ident(kb):
    return identity_api.IdentityAPI(kb, 'it', box=crypto.PasswordBox(SECRET))


def keystone(mc):
    return ks_client.Client(session=mc.session(), region_name=mc.region)


def user_token(mc, project=PROJECT, password=PASSWORD):
    """A project-scoped token of the test user at site ``mc``."""
    auth = v3.Password(
        auth_url=mc.auth_url,
        username=USER,
        password=password,
        user_domain_id='default',
        project_name=project,
        project_domain_id='default',
    )
    return ks_session.Session(auth=auth).get_token()


def can_log_in(mc):
    try:
        return bool(user_token(mc))
    except (ks_exc.Unauthorized, ks_exc.NotFound):
        return False


def wait_for(check, what, timeout=WAIT):
    sodos_sites_mod.wait_for(check, what, timeout)


def openstack_sodos(*args, stdin=None):
    """``openstack sodos identity ARGS`` against the first site's API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    done = subprocess.run(
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
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def drift_alerts(kb, site):
    return [
        a
        for a in kb.read('alerts').values()
        if a['kind'] == 'identity_drift' and a['site'] == site
    ]


def test_one_user_logs_in_at_every_site(
    sodos_sites, kb, ident, minicloud_sites
):
    out = openstack_sodos(
        'project', 'create', PROJECT, '--description', 'it', '-f', 'json'
    )
    assert json.loads(out)['name'] == PROJECT
    out = openstack_sodos(
        'user',
        'create',
        USER,
        '--email',
        'alice@example.org',
        '--password-stdin',
        '-f',
        'json',
        stdin=PASSWORD + '\n',
    )
    assert json.loads(out)['name'] == USER
    # No plaintext anywhere in the KB.
    stored = kb.read('identity')
    assert PASSWORD not in repr(stored)
    openstack_sodos(
        'role-assignment',
        'create',
        '--role',
        ROLE,
        '--user',
        USER,
        '--project',
        PROJECT,
    )
    for name in SITE_NAMES:
        wait_for(
            lambda n=name: can_log_in(minicloud_sites[n]),
            'a token of %s at %s' % (USER, name),
        )
    # Each site gave its own ids; the KB's map has them all.
    gid = ident.lookup('projects', PROJECT)[0]
    wait_for(
        lambda: len(ident.lookup('projects', PROJECT)[1]['site_ids']) == 3,
        'the ID map of every site',
    )
    site_ids = ident.lookup('projects', PROJECT)[1]['site_ids']
    assert len(set(site_ids.values())) == 3
    for name, local_id in site_ids.items():
        project = keystone(minicloud_sites[name]).projects.get(local_id)
        assert project.name == PROJECT
        assert project.sodos_id == gid


def test_a_hand_disabled_user_is_enabled_again_and_alerted(
    kb, minicloud_sites
):
    name = SITE_NAMES[1]
    mc = minicloud_sites[name]
    ks = keystone(mc)
    (user,) = ks.users.list(name=USER)
    before = len(drift_alerts(kb, name))
    ks.users.update(user, enabled=False)
    assert not can_log_in(mc)
    wait_for(lambda: ks.users.get(user.id).enabled, 'the user enabled again')
    wait_for(lambda: can_log_in(mc), 'a token again')
    wait_for(
        lambda: len(drift_alerts(kb, name)) > before, 'an identity_drift alert'
    )
    assert USER in drift_alerts(kb, name)[-1]['message'] or any(
        USER in a['message'] for a in drift_alerts(kb, name)
    )


def test_a_hand_removed_assignment_is_granted_again(kb, minicloud_sites):
    name = SITE_NAMES[2]
    mc = minicloud_sites[name]
    ks = keystone(mc)
    (user,) = ks.users.list(name=USER)
    (project,) = ks.projects.list(name=PROJECT)
    (role,) = ks.roles.list(name=ROLE)
    before = len(drift_alerts(kb, name))
    ks.roles.revoke(role, user=user, project=project)
    wait_for(
        lambda: ks.role_assignments.list(
            user=user, project=project, role=role
        ),
        'the assignment granted again',
    )
    wait_for(lambda: can_log_in(mc), 'a token again')
    wait_for(
        lambda: len(drift_alerts(kb, name)) > before, 'an identity_drift alert'
    )
    assert any(ROLE in a['message'] for a in drift_alerts(kb, name))


def test_a_new_password_reaches_every_site(ident, minicloud_sites):
    ident.put('users', USER, password=PASSWORD + '-2')
    for name in SITE_NAMES:
        mc = minicloud_sites[name]
        wait_for(
            lambda m=mc: bool(_quiet_token(m, password=PASSWORD + '-2')),
            'the new password at %s' % name,
        )
        assert not _quiet_token(mc, password=PASSWORD)


def _quiet_token(mc, password):
    try:
        return user_token(mc, password=password)
    except (ks_exc.Unauthorized, ks_exc.NotFound):
        return None


def test_deleting_the_user_propagates(sodos_sites, ident, minicloud_sites):
    openstack_sodos('user', 'delete', USER)
    users = ident.state()['users'].values()
    assert USER not in {u['name'] for u in users}
    for name in SITE_NAMES:
        ks = keystone(minicloud_sites[name])
        wait_for(
            lambda k=ks: not k.users.list(name=USER),
            'the user gone at %s' % name,
        )
    openstack_sodos('project', 'delete', PROJECT)
    for name in SITE_NAMES:
        ks = keystone(minicloud_sites[name])
        wait_for(
            lambda k=ks: not k.projects.list(name=PROJECT),
            'the project gone at %s' % name,
        )
    # The site's own accounts were never touched.
    for name in SITE_NAMES:
        assert keystone(minicloud_sites[name]).users.list(name='admin')
