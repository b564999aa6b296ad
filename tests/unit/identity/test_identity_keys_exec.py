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

"""Exec's shared keys and revocations, on a temp dir and a SQLite table."""

import datetime
import time

import pytest
import sqlalchemy

from sodos import exception
from sodos.exec.drivers.openstack import keystone_revocations
from sodos.exec.identity import keys as exec_keys
from sodos.identity import crypto
from sodos.identity import fernet
from sodos.identity import fernet_repo
from sodos.kb import commands
from sodos.kb import identity_keys
from sodos.knowmon import fernet_rotation
from tests.unit import helpers

SECRET = 'federation identity secret'


def keystone_table(url):
    """revocation_event as keystone/revoke/backends/sql.py declares it."""
    meta = sqlalchemy.MetaData()
    table = sqlalchemy.Table(
        'revocation_event',
        meta,
        sqlalchemy.Column('id', sqlalchemy.Integer, primary_key=True),
        sqlalchemy.Column('domain_id', sqlalchemy.String(64)),
        sqlalchemy.Column('project_id', sqlalchemy.String(64)),
        sqlalchemy.Column('user_id', sqlalchemy.String(64)),
        sqlalchemy.Column('role_id', sqlalchemy.String(64)),
        sqlalchemy.Column('trust_id', sqlalchemy.String(64)),
        sqlalchemy.Column('consumer_id', sqlalchemy.String(64)),
        sqlalchemy.Column('access_token_id', sqlalchemy.String(64)),
        sqlalchemy.Column(
            'issued_before', sqlalchemy.DateTime, nullable=False
        ),
        sqlalchemy.Column('expires_at', sqlalchemy.DateTime),
        sqlalchemy.Column('revoked_at', sqlalchemy.DateTime, nullable=False),
        sqlalchemy.Column('audit_id', sqlalchemy.String(32)),
        sqlalchemy.Column('audit_chain_id', sqlalchemy.String(32)),
    )
    engine = sqlalchemy.create_engine(url)
    meta.create_all(engine)
    return engine, table


@pytest.fixture
def shared(conf, tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'keystone.sqlite')
    conf.set_override('driver', 'openstack', 'exec')
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('secret', SECRET, 'identity')
    conf.set_override(
        'fernet_key_repository', str(tmp_path / 'fernet-keys'), 'identity'
    )
    conf.set_override('keystone_database_connection', url, 'identity')
    conf.set_override('fernet_max_active_keys', 3, 'identity')
    return url


@pytest.fixture
def db(shared):
    engine, table = keystone_table(shared)
    yield engine, table
    engine.dispose()


@pytest.fixture
def sync(conf, api, db):
    made = exec_keys.make(conf, helpers.site_driver(conf), lambda: api)
    yield made
    made.revocations.close()


@pytest.fixture
def leader(conf, knowmon):
    return fernet_rotation.FernetRotation(conf, knowmon.backend)


def kb_keys(api):
    return identity_keys.section(api.read('identity_keys'))


# -- make ---------------------------------------------------------------------


def test_off_unless_shared_on_a_real_site(conf):
    assert (
        exec_keys.make(conf, helpers.site_driver(conf), lambda: None) is None
    )
    # The simulator has no Keystone to hold keys or revocations.
    conf.set_override('mode', 'shared', 'identity')
    assert (
        exec_keys.make(conf, helpers.site_driver(conf), lambda: None) is None
    )


def test_shared_mode_needs_its_options(conf):
    conf.set_override('driver', 'openstack', 'exec')
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('secret', SECRET, 'identity')
    with pytest.raises(exception.ConfigError) as caught:
        exec_keys.make(conf, helpers.site_driver(conf), lambda: None)
    assert str(caught.value) == (
        '[identity]mode = shared needs [identity]fernet_key_repository, '
        '[identity]keystone_database_connection: set them in the '
        '[identity] section (the same secret at every site)'
    )


# -- keys ---------------------------------------------------------------------


def test_nothing_to_write_before_the_leader_made_keys(sync, conf):
    line = sync.run_once()
    assert line.startswith('identity keys: none in the KB yet;')
    assert fernet_repo.read_repo(conf.identity.fernet_key_repository) == {}


def test_keys_are_written_then_acknowledged_once(sync, api, leader, conf):
    leader.step()
    repo = kb_keys(api)['repo']
    line = sync.run_once()
    assert 'identity keys: generation 1 written and acknowledged' in line
    directory = conf.identity.fernet_key_repository
    held = fernet_repo.read_repo(directory)
    assert held == fernet.unseal(crypto.PasswordBox(SECRET), repo['keys'])
    assert kb_keys(api)['acks']['here']['hash'] == repo['hash']
    # In line: no write, no second ack.
    mtime = fernet_repo.os.stat(directory).st_mtime_ns
    assert 'generation 1 held;' in sync.run_once()
    assert fernet_repo.os.stat(directory).st_mtime_ns == mtime
    at = kb_keys(api)['acks']['here']['at']
    sync.run_once()
    assert kb_keys(api)['acks']['here']['at'] == at


def test_a_rotation_reaches_the_directory(sync, api, leader, conf):
    leader.step()
    sync.run_once()
    first = fernet_repo.read_repo(conf.identity.fernet_key_repository)
    repo = kb_keys(api)['repo']
    leader.step(
        now=repo['rotated_at'] + conf.identity.fernet_rotation_interval
    )
    assert kb_keys(api)['repo']['generation'] == 2
    assert 'generation 2 written and acknowledged' in sync.run_once()
    second = fernet_repo.read_repo(conf.identity.fernet_key_repository)
    assert second[2] == first[0]  # the staged key became primary
    assert second[1] == first[1]
    assert second[0] not in first.values()


def test_keys_changed_by_hand_are_put_back(sync, api, leader, conf):
    leader.step()
    sync.run_once()
    directory = conf.identity.fernet_key_repository
    good = fernet_repo.read_repo(directory)
    fernet_repo.write_repo(directory, fernet.initial_repo(3))
    assert 'generation 1 written' in sync.run_once()
    assert fernet_repo.read_repo(directory) == good


def test_another_secret_writes_nothing_and_acknowledges_nothing(
    sync, api, leader, conf
):
    leader.step()
    conf.set_override('secret', 'another secret', 'identity')
    line = sync.run_once()
    assert 'generation 1 NOT written: the password was encrypted with ' in line
    assert fernet_repo.read_repo(conf.identity.fernet_key_repository) == {}
    assert kb_keys(api)['acks'] == {}


def test_fenced_without_quorum(conf, api, db, leader):
    leader.step()
    fenced = helpers.Wrapped(api, in_quorum=False)
    made = exec_keys.make(conf, helpers.site_driver(conf), lambda: fenced)
    assert made.run_once() == 'identity keys: fenced (no quorum), not acting'
    assert fernet_repo.read_repo(conf.identity.fernet_key_repository) == {}
    made.revocations.close()


# -- revocations --------------------------------------------------------------


def utc(seconds_ago):
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(
        seconds=seconds_ago
    )
    return moment.replace(tzinfo=None, microsecond=0)


def rows(db):
    engine, table = db
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(sqlalchemy.select(table)).mappings()
        ]


def insert(db, **values):
    engine, table = db
    with engine.begin() as conn:
        conn.execute(table.insert(), [values])


def test_local_revocations_reach_the_kb_once(sync, api, db):
    at = utc(60)
    insert(db, audit_id='tok1', issued_before=at, revoked_at=at)
    insert(
        db,
        user_id='u1',
        issued_before=at,
        revoked_at=at,
        expires_at=at + datetime.timedelta(hours=1),
    )
    line = sync.run_once()
    assert line.endswith('revocations: 2 added to the KB')
    stored = kb_keys(api)['revocations']
    assert sorted(
        e.get('audit_id', e.get('user_id')) for e in stored.values()
    ) == [
        'tok1',
        'u1',
    ]
    event = next(e for e in stored.values() if e.get('audit_id') == 'tok1')
    assert event == {
        'audit_id': 'tok1',
        'issued_before': identity_keys.format_time(at),
        'revoked_at': identity_keys.format_time(at),
        'site': 'here',
    }
    assert sync.run_once().endswith('revocations: 2 in line')
    assert len(rows(db)) == 2  # nothing copied back


def test_other_sites_revocations_are_inserted_once(sync, api, db):
    at = identity_keys.format_time(utc(30))
    api.submit(
        identity_keys_command(
            [{'audit_id': 'far1', 'issued_before': at, 'revoked_at': at}]
        )
    )
    assert sync.run_once().endswith('revocations: 1 copied into Keystone')
    (row,) = rows(db)
    assert row['audit_id'] == 'far1'
    assert identity_keys.format_time(row['revoked_at']) == at
    assert row['user_id'] is None
    # The same event is not inserted again, nor sent back.
    assert sync.run_once().endswith('revocations: 1 in line')
    assert len(rows(db)) == 1
    assert len(kb_keys(api)['revocations']) == 1


def identity_keys_command(events, origin='far'):
    return commands.make(
        'identity.revocation.add', {'events': events}, origin
    ).to_wire()


def test_old_revocations_are_left_alone(sync, api, db):
    old = utc(identity_keys.REVOCATION_RETENTION + 60)
    insert(db, audit_id='old', issued_before=old, revoked_at=old)
    text = identity_keys.format_time(old)
    api.submit(
        identity_keys_command(
            [{'audit_id': 'old2', 'issued_before': text, 'revoked_at': text}]
        )
    )
    assert sync.run_once().endswith('revocations: 0 in line')
    assert [r['audit_id'] for r in rows(db)] == ['old']
    audits = [e['audit_id'] for e in kb_keys(api)['revocations'].values()]
    assert audits == ['old2']


def test_an_unreadable_table_is_said(conf, api, tmp_path):
    conf.set_override('driver', 'openstack', 'exec')
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('secret', SECRET, 'identity')
    conf.set_override(
        'fernet_key_repository', str(tmp_path / 'keys'), 'identity'
    )
    conf.set_override(
        'keystone_database_connection',
        'sqlite:///%s' % (tmp_path / 'empty.sqlite'),
        'identity',
    )
    made = exec_keys.make(conf, helpers.site_driver(conf), lambda: api)
    line = made.run_once()
    assert line.endswith(
        'revocations: not read: no revocation_event table in the Keystone '
        'database: is [identity]keystone_database_connection the database '
        "of this site's Keystone?"
    )
    made.revocations.close()


def test_a_table_of_another_schema_is_refused(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'other.sqlite')
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            'CREATE TABLE revocation_event (id INTEGER PRIMARY KEY, '
            'audit_id VARCHAR(32), revoked_at DATETIME)'
        )
    table = keystone_revocations.RevocationTable(url)
    with pytest.raises(keystone_revocations.RevocationError) as caught:
        table.list_events(identity_keys.time_at(time.time()))
    assert 'lacks column(s) access_token_id, audit_chain_id' in str(
        caught.value
    )
    engine.dispose()


def test_a_row_keystone_would_not_write_holds_nothing_back(sync, api, db):
    at = utc(60)
    insert(db, audit_id='', issued_before=at, revoked_at=at)
    insert(db, audit_id='good', issued_before=at, revoked_at=at)
    line = sync.run_once()
    assert line.endswith(
        'revocations: 1 added to the KB, 1 unusable row(s) left out'
    )
    audits = [e['audit_id'] for e in kb_keys(api)['revocations'].values()]
    assert audits == ['good']
