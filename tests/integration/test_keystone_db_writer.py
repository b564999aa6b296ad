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

"""The shared identity writer against the real schema of Keystone.

A MariaDB database of its own is made with the installed Keystone's
``keystone-manage db_sync`` and ``bootstrap`` (for its roles), then the
writer creates, re-applies, changes and deletes in it; the password
hashes are checked with Keystone's own ``check_password``. The last test
logs in at two real minicloud sites (the session's, see conftest.py) as
a user the writer made in each site's database with the same id.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.exec.drivers.openstack.keystone_db import rows
from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.exec.drivers.openstack.keystone_db import writer as db_writer
from sodos.identity import converge
from sodos.identity import model
from tests import minicloud
from tests.integration.conftest import SITE_NAMES
from tests.minicloud import backends

KEYSTONE_MANAGE = os.path.join(
    os.path.dirname(sys.executable), 'keystone-manage'
)
PASSWORD = 'it-ksdb-Passw0rd'
# Keystone's own check, in a process of its own: keystone.conf registers
# its options on oslo.config's global CONF, which sodos never uses.
CHECK_PASSWORD = """
import json, sys, warnings
warnings.simplefilter('ignore')
import keystone.conf
from keystone.common import password_hashing
keystone.conf.configure()
args = json.load(sys.stdin)
print(json.dumps(password_hashing.check_password(*args)))
"""


def _unavailable(message):
    if os.environ.get('CI') == 'true':
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _manage(config, *args):
    done = subprocess.run(
        [KEYSTONE_MANAGE, '--config-file', config, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope='module')
def keystone_url(tmp_path_factory):
    """The URL of a fresh, bootstrapped Keystone database (dropped after)."""
    base = os.environ.get(
        'SODOS_TEST_MARIADB_URL', minicloud.DEFAULT_DATABASE_URL
    )
    if not backends.reachable(base, 3306):
        _unavailable('MariaDB is not reachable at %s' % base)
    if not os.access(KEYSTONE_MANAGE, os.X_OK):
        _unavailable(
            'keystone-manage is not installed next to %s' % sys.executable
        )
    name = 'sodos_ksdb_test_%s' % uuid.uuid4().hex[:8]
    url = backends.database_url(base, name)
    root = tmp_path_factory.mktemp('keystone-db')
    keys = root / 'fernet-keys'
    config = root / 'keystone.conf'
    config.write_text(
        '[database]\nconnection = %s\n'
        '[fernet_tokens]\nkey_repository = %s\n'
        '[fernet_receipts]\nkey_repository = %s\n' % (url, keys, keys)
    )
    backends.recreate_databases(base, [name])
    try:
        _manage(str(config), 'db_sync')
        owner = [
            '--keystone-user',
            pwd.getpwuid(os.getuid()).pw_name,
            '--keystone-group',
            grp.getgrgid(os.getgid()).gr_name,
        ]
        _manage(str(config), 'fernet_setup', *owner)
        _manage(str(config), 'bootstrap', '--bootstrap-password', 'admin-pw')
        yield url
    finally:
        backends.drop_databases(base, [name])


def make_conf(url):
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('keystone_database_connection', url, 'identity')
    return conf


@pytest.fixture
def ks(keystone_url):
    made = db_writer.KeystoneDBWriter(make_conf(keystone_url))
    yield made
    made.close()


def gid():
    return uuid.uuid4().hex


def create(kind, gid_, password=None, **attrs):
    attrs[model.MARKER] = gid_
    return converge.Op(
        'create',
        kind,
        '%s/%s' % (kind, gid_),
        gid=gid_,
        attrs=attrs,
        what=attrs['name'],
        password=password,
        password_version=1 if password else None,
    )


def delete(kind, gid_):
    return converge.Op(
        'delete', kind, '%s/%s' % (kind, gid_), gid=gid_, local_id=gid_
    )


def rows_of(url):
    """Every row of the tables the writer uses, as sets."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {
                table.name: {
                    tuple(row) for row in conn.execute(sa.select(table))
                }
                for table in schema.METADATA.sorted_tables
            }
    finally:
        engine.dispose()


def newest_hash(url, user_id):
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            local = schema.LOCAL_USER
            password = schema.PASSWORD
            return conn.execute(
                sa.select(password.c.password_hash)
                .join(local, local.c.id == password.c.local_user_id)
                .where(local.c.user_id == user_id)
                .order_by(password.c.created_at_int.desc())
            ).scalar()
    finally:
        engine.dispose()


def keystone_checks(password, hashed):
    done = subprocess.run(
        [sys.executable, '-c', CHECK_PASSWORD],
        input=json.dumps([password, hashed]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_bootstrapped_schema_passes_the_gate(ks):
    seen = ks.snapshot()
    assert ks.gate.label == 'Keystone 30.0.0'
    assert seen.domains['default']['name'] == 'Default'
    assert 'admin' in {p['name'] for p in seen.projects.values()}
    assert 'admin' in {u['name'] for u in seen.users.values()}
    # bootstrap's admin assignment, read by role name.
    assert any(a[0] == 'admin' and a[1] == 'user' for a in seen.assignments)


def test_create_reapply_change_and_delete(ks, keystone_url):
    before = rows_of(keystone_url)
    d, p, u, g = gid(), gid(), gid(), gid()
    ops = [
        create(
            'domains',
            d,
            name='it-ksdb-domain',
            description='fed',
            enabled=True,
        ),
        create(
            'projects',
            p,
            name='it-ksdb-project',
            domain_id=d,
            description='',
            enabled=True,
        ),
        create(
            'users',
            u,
            PASSWORD,
            name='it-ksdb-alice',
            domain_id=d,
            email='alice@example.org',
            enabled=True,
        ),
        create(
            'groups', g, name='it-ksdb-ops', domain_id=d, description='ops'
        ),
        converge.Op('add', 'memberships', 'm', member=(g, u)),
        converge.Op(
            'grant',
            'assignments',
            'a1',
            grant=('member', 'user', u, 'project', p),
        ),
        converge.Op(
            'grant',
            'assignments',
            'a2',
            grant=('reader', 'group', g, 'domain', d),
        ),
    ]
    for op in ops:
        ks.apply(op)
    seen = ks.snapshot()
    assert seen.domains[d] == {
        'name': 'it-ksdb-domain',
        'description': 'fed',
        'enabled': True,
        model.MARKER: d,
    }
    assert seen.projects[p] == {
        'name': 'it-ksdb-project',
        'domain_id': d,
        'description': '',
        'enabled': True,
        model.MARKER: p,
    }
    assert seen.users[u] == {
        'name': 'it-ksdb-alice',
        'domain_id': d,
        'enabled': True,
        'email': 'alice@example.org',
        model.MARKER: u,
        model.PASSWORD_VERSION: 1,
    }
    assert seen.groups[g][model.MARKER] == g
    assert {
        ('member', 'user', u, 'project', p),
        ('reader', 'group', g, 'domain', d),
    } <= seen.assignments
    assert ks.group_members(g) == {u}
    hashed = newest_hash(keystone_url, u)
    assert keystone_checks(PASSWORD, hashed) is True
    assert keystone_checks('not-the-password', hashed) is False

    # Applied again: not a row changes (the password is not re-hashed).
    written = rows_of(keystone_url)
    for op in ops:
        ks.apply(op)
    assert rows_of(keystone_url) == written

    # A change, and a password set by hand then set again.
    ks.apply(
        converge.Op(
            'update',
            'users',
            'users/' + u,
            gid=u,
            local_id=u,
            attrs={'name': 'it-ksdb-alice2', 'enabled': False},
        )
    )
    engine = sa.create_engine(keystone_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        local = schema.LOCAL_USER
        conn.execute(
            sa.update(schema.PASSWORD)
            .where(
                schema.PASSWORD.c.local_user_id.in_(
                    sa.select(local.c.id).where(local.c.user_id == u)
                )
            )
            .values(password_hash=rows.hash_password('handmade'))
        )
    engine.dispose()
    user = ks.snapshot().users[u]
    assert (user['name'], user['enabled']) == ('it-ksdb-alice2', False)
    assert model.PASSWORD_VERSION not in user
    ks.apply(
        converge.Op(
            'update',
            'users',
            'users/' + u,
            gid=u,
            local_id=u,
            password=PASSWORD,
            password_version=1,
        )
    )
    assert ks.snapshot().users[u][model.PASSWORD_VERSION] == 1
    assert keystone_checks(PASSWORD, newest_hash(keystone_url, u)) is True

    # Deleted the other way round, each twice: back to what Keystone had.
    for op in [
        converge.Op('remove', 'memberships', 'm', member=(g, u)),
        converge.Op(
            'revoke',
            'assignments',
            'a2',
            grant=('reader', 'group', g, 'domain', d),
        ),
        delete('groups', g),
        delete('users', u),
        delete('projects', p),
        delete('domains', d),
    ]:
        ks.apply(op)
        ks.apply(op)
    assert rows_of(keystone_url) == before


def test_an_unknown_schema_version_is_refused_and_nothing_written(
    ks, keystone_url
):
    ks.snapshot()
    engine = sa.create_engine(keystone_url, poolclass=sa.pool.NullPool)
    version = schema.ALEMBIC_VERSION
    with engine.begin() as conn:
        conn.execute(
            sa.update(version)
            .where(version.c.version_num == '742c857f1dfb')
            .values(version_num='0123456789ab')
        )
    try:
        before = rows_of(keystone_url)
        p = gid()
        with pytest.raises(schema.SchemaRefused) as refused:
            ks.apply(
                create(
                    'projects', p, name='it-ksdb-refused', domain_id='default'
                )
            )
        assert str(refused.value).startswith(
            'Keystone database schema 0123456789ab+c88cdce8f248 is not one '
            'sodos knows (known: 742c857f1dfb+c88cdce8f248 (Keystone 30.0.0))'
        )
        with pytest.raises(schema.SchemaRefused):
            ks.snapshot()
        assert rows_of(keystone_url) == before
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.update(version)
                .where(version.c.version_num == '0123456789ab')
                .values(version_num='742c857f1dfb')
            )
        engine.dispose()
    ks.snapshot()  # accepted again


def test_one_user_id_logs_in_at_two_real_sites(minicloud_sites):
    """The same user and project ids, written in two sites' databases:
    each site's Keystone issues a token for them."""
    sites = [minicloud_sites[name] for name in SITE_NAMES[:2]]
    u, p = gid(), gid()
    writers = [
        db_writer.KeystoneDBWriter(make_conf(site.database('keystone')))
        for site in sites
    ]
    try:
        for ks in writers:
            ks.apply(
                create(
                    'projects', p, name='it-ksdb-shared', domain_id='default'
                )
            )
            ks.apply(
                create(
                    'users',
                    u,
                    PASSWORD,
                    name='it-ksdb-shared-user',
                    domain_id='default',
                    enabled=True,
                )
            )
            ks.apply(
                converge.Op(
                    'grant',
                    'assignments',
                    'a',
                    grant=('member', 'user', u, 'project', p),
                )
            )
        for site in sites:
            auth = v3.Password(
                auth_url=site.auth_url,
                username='it-ksdb-shared-user',
                user_domain_id='default',
                password=PASSWORD,
                project_id=p,
            )
            session = ks_session.Session(auth=auth)
            assert session.get_token()
            assert session.get_user_id() == u
            assert session.get_project_id() == p
            access = auth.get_access(session)
            assert 'member' in access.role_names
    finally:
        for ks in writers:
            ks.apply(delete('users', u))
            ks.apply(delete('projects', p))
            ks.close()
