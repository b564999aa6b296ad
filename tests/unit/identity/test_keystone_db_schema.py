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

"""The shared identity writer without Keystone: the schema gate, the rows
it builds, and the writer on a SQLite database made from its own table
declarations (the real schema is tested in
tests/integration/test_keystone_db_writer.py)."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack.keystone_db import rows
from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.exec.drivers.openstack.keystone_db import writer as db_writer
from sodos.identity import converge
from sodos.identity import model

HEADS = next(iter(schema.KNOWN_HEADS))
ROLES = {'admin': 'r-admin', 'member': 'r-member', 'reader': 'r-reader'}


# -- the version gate ---------------------------------------------------------


def test_known_heads_are_accepted_in_any_order():
    assert schema.check_heads(frozenset(sorted(HEADS, reverse=True))) == (
        'Keystone 30.0.0'
    )


def test_unknown_heads_are_refused_naming_them_and_the_known_ones():
    with pytest.raises(schema.SchemaRefused) as refused:
        schema.check_heads(frozenset({'c88cdce8f248', 'ffff00001111'}))
    text = str(refused.value)
    assert text.startswith(
        'Keystone database schema c88cdce8f248+ffff00001111 is not one '
        'sodos knows (known: '
    )
    assert '742c857f1dfb+c88cdce8f248 (Keystone 30.0.0)' in text
    assert text.endswith(
        'shared identity mode refuses to write it; use [identity]mode = '
        'api or upgrade sodos'
    )
    assert isinstance(refused.value, driver.PermanentError)


def test_half_a_version_is_refused():
    with pytest.raises(schema.SchemaRefused):
        schema.check_heads(frozenset({'742c857f1dfb'}))


def _all_columns():
    return {
        t.name: [c.name for c in t.columns]
        for t in schema.METADATA.tables.values()
    }


def test_missing_tables_and_columns_are_named():
    found = _all_columns()
    assert schema.missing_columns(found) == []
    found['user'] = [c for c in found['user'] if c != 'extra']
    found['limit'] = None
    del found['project_option']
    missing = schema.missing_columns(found)
    assert sorted(missing) == ['limit', 'project_option', 'user.extra']
    with pytest.raises(schema.SchemaRefused, match='lacks .*user.extra'):
        schema.check_columns(found)


def test_extra_columns_in_keystone_are_fine():
    found = _all_columns()
    found['user'].append('a_column_of_a_later_release')
    assert schema.missing_columns(found) == []


# -- rows ---------------------------------------------------------------------

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901)


def test_a_domain_is_a_root_project_row():
    row = rows.main_row(
        'domains',
        'd1',
        {
            'name': 'fed',
            'description': None,
            'enabled': True,
            model.MARKER: 'd1',
        },
        NOW,
    )
    assert row['is_domain'] is True
    assert row['domain_id'] == schema.ROOT_DOMAIN
    assert row['parent_id'] is None
    assert rows.load_extra(row['extra']) == {model.MARKER: 'd1'}


def test_a_project_has_its_domain_as_parent():
    row = rows.main_row(
        'projects',
        'p1',
        {'name': 'p', 'domain_id': 'd1', 'enabled': False, model.MARKER: 'p1'},
        NOW,
    )
    assert (row['domain_id'], row['parent_id'], row['is_domain']) == (
        'd1',
        'd1',
        False,
    )
    assert row['enabled'] is False


def test_a_user_keeps_description_email_and_marks_in_extra():
    attrs = {
        'name': 'alice',
        'domain_id': 'default',
        'description': 'first',
        'email': None,
        'enabled': True,
        model.MARKER: 'u1',
    }
    row = rows.main_row('users', 'u1', attrs, NOW)
    assert rows.load_extra(row['extra']) == {
        'description': 'first',
        model.MARKER: 'u1',
    }
    assert 'name' not in row
    assert row['created_at'] == NOW.replace(microsecond=0)
    assert rows.local_user_row('u1', attrs) == {
        'user_id': 'u1',
        'domain_id': 'default',
        'name': 'alice',
    }


def test_an_update_never_moves_an_object_to_another_domain():
    assert rows.updated_columns(
        'users', {'name': 'b', 'domain_id': 'x', 'enabled': False}
    ) == {'enabled': False}


def test_a_password_row_is_keystones_shape():
    row = rows.password_row(7, '$2b$04$hash', NOW)
    assert row['created_at_int'] == 1767323045678901
    assert row['expires_at'] is None and row['self_service'] is False


def test_a_password_hash_is_bcrypt_with_keystones_rounds():
    assert rows.hash_password('s3cret!').startswith('$2b$12$')


@pytest.fixture
def fast_bcrypt(monkeypatch):
    # Fewer bcrypt rounds: the same hash format, a test 200x faster.
    monkeypatch.setattr(rows, 'BCRYPT_ROUNDS', 4)


def test_a_password_hash_verifies(fast_bcrypt):
    hashed = rows.hash_password('s3cret!')
    assert rows.verify_password('s3cret!', hashed)
    assert not rows.verify_password('other', hashed)
    assert not rows.verify_password('s3cret!', '$6$sha512crypt$abc')
    assert not rows.verify_password('s3cret!', None)


def test_a_password_is_cut_at_72_bytes_as_keystone_cuts_it(fast_bcrypt):
    long = 'x' * 72
    assert rows.verify_password(long + 'tail', rows.hash_password(long))


def test_a_password_version_is_read_only_with_the_hash_sodos_wrote():
    extra = {
        model.MARKER: 'u1',
        model.PASSWORD_VERSION: 3,
        rows.PASSWORD_CHECK: rows.password_check('$2b$hash-sodos-wrote'),
    }
    columns = {'name': 'alice', 'domain_id': 'default', 'enabled': 1}
    seen = rows.observed('users', columns, extra, '$2b$hash-sodos-wrote')
    assert seen == {
        'name': 'alice',
        'domain_id': 'default',
        'enabled': True,
        model.MARKER: 'u1',
        model.PASSWORD_VERSION: 3,
    }
    by_hand = rows.observed('users', columns, extra, '$2b$set-by-hand')
    assert model.PASSWORD_VERSION not in by_hand


def test_assignment_rows_and_back():
    grant = ('member', 'group', 'g1', 'domain', 'd1')
    row = rows.assignment_row(grant, 'r-member')
    assert row == {
        'type': 'GroupDomain',
        'actor_id': 'g1',
        'target_id': 'd1',
        'role_id': 'r-member',
        'inherited': False,
    }

    class Row:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    names = {'r-member': 'member'}
    assert rows.grant_of(Row(**row), names) == grant
    assert rows.grant_of(Row(**dict(row, inherited=True)), names) is None
    assert (
        rows.grant_of(Row(**dict(row, role_id='domain-role')), names) is None
    )


def test_damaged_extra_reads_as_empty():
    assert rows.load_extra('{not json') == {}
    assert rows.load_extra('[1, 2]') == {}
    assert rows.load_extra(None) == {}


# -- the writer on a SQLite stand-in ------------------------------------------


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine('sqlite:///%s' % (tmp_path / 'keystone.db'))
    schema.METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(schema.ALEMBIC_VERSION),
            [{'version_num': head} for head in HEADS],
        )
        conn.execute(
            sa.insert(schema.PROJECT),
            [
                {
                    'id': schema.ROOT_DOMAIN,
                    'name': schema.ROOT_DOMAIN,
                    'extra': '{}',
                    'enabled': False,
                    'domain_id': schema.ROOT_DOMAIN,
                    'is_domain': True,
                },
                {
                    'id': 'default',
                    'name': 'Default',
                    'extra': '{}',
                    'enabled': True,
                    'domain_id': schema.ROOT_DOMAIN,
                    'is_domain': True,
                },
            ],
        )
        conn.execute(
            sa.insert(schema.ROLE),
            [
                {
                    'id': rid,
                    'name': name,
                    'domain_id': schema.GLOBAL_ROLE_DOMAIN,
                }
                for name, rid in ROLES.items()
            ],
        )
    yield engine
    engine.dispose()


@pytest.fixture
def ks(conf, engine, fast_bcrypt):
    conf.set_override(
        'keystone_database_connection', str(engine.url), 'identity'
    )
    return db_writer.KeystoneDBWriter(conf, engine=engine)


def gid():
    return uuid.uuid4().hex


def create(kind, gid_, password=None, version=None, **attrs):
    attrs[model.MARKER] = gid_
    return converge.Op(
        'create',
        kind,
        '%s/%s' % (kind, gid_),
        gid=gid_,
        attrs=attrs,
        what=attrs['name'],
        password=password,
        password_version=version,
    )


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(table)
        ).scalar()


def test_objects_are_made_with_the_global_id_and_read_back(ks, engine):
    d, p, u, g = gid(), gid(), gid(), gid()
    assert ks.apply(create('domains', d, name='fed', enabled=True)) == d
    assert (
        ks.apply(create('projects', p, name='p1', domain_id=d, enabled=True))
        == p
    )
    op = create(
        'users',
        u,
        'pw-1',
        1,
        name='alice',
        domain_id=d,
        email='a@x.org',
        enabled=True,
    )
    assert ks.apply(op) == u
    assert ks.apply(create('groups', g, name='g1', domain_id=d)) == g
    ks.apply(converge.Op('add', 'memberships', 'm', member=(g, u)))
    grant = ('member', 'user', u, 'project', p)
    ks.apply(converge.Op('grant', 'assignments', 'a', grant=grant))
    seen = ks.snapshot()
    assert seen.domains[d] == {
        'name': 'fed',
        'description': '',
        'enabled': True,
        model.MARKER: d,
    }
    assert seen.projects[p]['domain_id'] == d
    assert seen.users[u] == {
        'name': 'alice',
        'domain_id': d,
        'enabled': True,
        'email': 'a@x.org',
        model.MARKER: u,
        model.PASSWORD_VERSION: 1,
    }
    assert seen.groups[g][model.MARKER] == g
    assert grant in seen.assignments
    assert ks.group_members(g) == {u}
    assert 'default' in seen.domains and schema.ROOT_DOMAIN not in seen.domains


def test_every_operation_applied_twice_changes_nothing_more(ks, engine):
    p, u, g = gid(), gid(), gid()
    ops = [
        create('projects', p, name='p1', domain_id='default', enabled=True),
        create(
            'users', u, 'pw', 1, name='bob', domain_id='default', enabled=True
        ),
        create('groups', g, name='g', domain_id='default'),
        converge.Op('add', 'memberships', 'm', member=(g, u)),
        converge.Op(
            'grant',
            'assignments',
            'a',
            grant=('reader', 'group', g, 'project', p),
        ),
    ]
    for op in ops:
        ks.apply(op)
    with engine.connect() as conn:
        hash_before = conn.execute(
            sa.select(schema.PASSWORD.c.password_hash)
        ).scalar()
    tables = (
        schema.PROJECT,
        schema.USER,
        schema.LOCAL_USER,
        schema.PASSWORD,
        schema.GROUP,
        schema.USER_GROUP_MEMBERSHIP,
        schema.ASSIGNMENT,
    )
    before = [count(engine, t) for t in tables]
    for op in ops:
        ks.apply(op)
    assert [count(engine, t) for t in tables] == before
    with engine.connect() as conn:
        # The password already verified: not hashed again.
        assert conn.execute(
            sa.select(schema.PASSWORD.c.password_hash)
        ).scalar() == (hash_before)
    delete = converge.Op('delete', 'users', 'users/' + u, gid=u, local_id=u)
    ks.apply(delete)
    ks.apply(delete)
    assert count(engine, schema.USER) == 0
    assert count(engine, schema.USER_GROUP_MEMBERSHIP) == 0


def test_a_password_changed_by_hand_is_seen_and_set_again(ks, engine):
    u = gid()
    ks.apply(
        create('users', u, 'federation-pw', 2, name='c', domain_id='default')
    )
    with engine.begin() as conn:
        conn.execute(
            sa.update(schema.PASSWORD).values(
                password_hash=rows.hash_password('handmade')
            )
        )
    user = ks.snapshot().users[u]
    assert model.PASSWORD_VERSION not in user
    ks.apply(
        converge.Op(
            'update',
            'users',
            'users/' + u,
            gid=u,
            local_id=u,
            password='federation-pw',
            password_version=2,
        )
    )
    assert ks.snapshot().users[u][model.PASSWORD_VERSION] == 2
    with engine.connect() as conn:
        (hashed,) = conn.execute(
            sa.select(schema.PASSWORD.c.password_hash)
        ).scalars()
    assert rows.verify_password('federation-pw', hashed)


def test_a_new_password_revokes_the_tokens_made_before_it(ks, engine):
    u = gid()
    first = create('users', u, 'first-pw', 1, name='r', domain_id='default')
    first.password_set_at = 1000.0
    ks.apply(first)
    # A first password: no token to revoke.
    assert count(engine, schema.REVOCATION_EVENT) == 0

    def change(set_at):
        return converge.Op(
            'update',
            'users',
            'users/' + u,
            gid=u,
            local_id=u,
            password='second-pw',
            password_version=2,
            password_set_at=set_at,
        )

    ks.apply(change(2000.4))
    with engine.connect() as conn:
        (event,) = conn.execute(sa.select(schema.REVOCATION_EVENT)).all()
    assert event.user_id == u
    # Rounded up to MariaDB's whole seconds: no token of the old
    # password is spared.
    assert event.issued_before == datetime.datetime(1970, 1, 1, 0, 33, 21)
    assert event.revoked_at == event.issued_before
    # Applied again (the password holds already): nothing more.
    ks.apply(change(2000.4))
    assert count(engine, schema.REVOCATION_EVENT) == 1


def test_what_sodos_did_not_make_is_not_changed(ks, engine):
    with engine.begin() as conn:
        conn.execute(
            sa.insert(schema.PROJECT).values(
                rows.main_row(
                    'projects',
                    'handmade',
                    {'name': 'theirs', 'domain_id': 'default'},
                    NOW,
                )
            )
        )
    update = converge.Op(
        'update',
        'projects',
        'projects/x',
        gid='handmade',
        local_id='handmade',
        attrs={'description': 'mine now'},
    )
    with pytest.raises(driver.PermanentError, match='not made by sodos'):
        ks.apply(update)
    other = converge.Op(
        'delete', 'projects', 'projects/x', gid=gid(), local_id='handmade'
    )
    with pytest.raises(driver.PermanentError, match='not the federation'):
        ks.apply(other)
    assert ks.snapshot().projects['handmade']['name'] == 'theirs'
    with pytest.raises(driver.PermanentError, match='already exists'):
        ks.apply(create('projects', gid(), name='theirs', domain_id='default'))


def test_protected_names_are_refused(ks):
    with pytest.raises(driver.PermanentError, match='protected'):
        ks.apply(create('projects', gid(), name='admin', domain_id='default'))
    with pytest.raises(driver.PermanentError, match='protected'):
        ks.apply(create('users', gid(), name='nova', domain_id='default'))


def test_a_domain_that_is_not_empty_is_kept(ks, engine):
    d, p = gid(), gid()
    ks.apply(create('domains', d, name='fed'))
    ks.apply(create('projects', p, name='p', domain_id=d))
    delete = converge.Op(
        'delete', 'domains', 'domains/' + d, gid=d, local_id=d
    )
    with pytest.raises(driver.PermanentError, match='still holds 1 project'):
        ks.apply(delete)
    ks.apply(converge.Op('delete', 'projects', 'p', gid=p, local_id=p))
    ks.apply(delete)
    assert d not in ks.snapshot().domains


def test_a_missing_role_is_named(ks):
    u = gid()
    ks.apply(create('users', u, name='d', domain_id='default'))
    grant = ('nosuchrole', 'user', u, 'domain', 'default')
    with pytest.raises(
        driver.PermanentError, match='role nosuchrole does not'
    ):
        ks.apply(converge.Op('grant', 'assignments', 'a', grant=grant))
    # Nothing to revoke: not an error.
    ks.apply(converge.Op('revoke', 'assignments', 'a', grant=grant))


def test_an_unknown_schema_is_refused_and_nothing_written(ks, engine):
    ks.snapshot()
    with engine.begin() as conn:
        conn.execute(
            sa.update(schema.ALEMBIC_VERSION)
            .where(schema.ALEMBIC_VERSION.c.version_num == '742c857f1dfb')
            .values(version_num='abcdef012345')
        )
    with pytest.raises(schema.SchemaRefused, match='abcdef012345'):
        ks.apply(create('projects', gid(), name='p', domain_id='default'))
    with pytest.raises(schema.SchemaRefused):
        ks.snapshot()
    assert count(engine, schema.PROJECT) == 2


def test_a_missing_column_is_refused(ks, engine):
    with engine.begin() as conn:
        conn.exec_driver_sql(
            'ALTER TABLE local_user DROP COLUMN failed_auth_at'
        )
    with pytest.raises(
        schema.SchemaRefused, match='local_user.failed_auth_at'
    ):
        ks.snapshot()


def test_no_alembic_table_is_refused(ks, engine):
    with engine.begin() as conn:
        conn.exec_driver_sql('DROP TABLE alembic_version')
    with pytest.raises(schema.SchemaRefused, match='no alembic_version table'):
        ks.snapshot()


def test_an_unreachable_database_is_transient(conf, tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'missing' / 'keystone.db')
    conf.set_override('keystone_database_connection', url, 'identity')
    ks = db_writer.KeystoneDBWriter(conf)
    with pytest.raises(
        driver.TransientError, match='Keystone database sqlite'
    ):
        ks.snapshot()


def test_the_url_password_is_never_shown():
    assert 'secret' not in db_writer.safe_url(
        'mysql+pymysql://keystone:secret@db/keystone'
    )
