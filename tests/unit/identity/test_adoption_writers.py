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

"""Marking an existing object (adoption) in the API and database
writers, and adoption through the database writer end to end."""

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import identity
from sodos.exec.drivers.openstack.keystone_db import rows
from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.exec.identity import sync as identity_sync
from sodos.identity import model
from tests.unit.identity.test_keystone_db_schema import NOW
from tests.unit.identity.test_keystone_db_schema import engine  # noqa: F401
from tests.unit.identity.test_keystone_db_schema import fast_bcrypt  # noqa: F401
from tests.unit.identity.test_keystone_db_schema import ks  # noqa: F401

LID = 'c' * 32
GID = '1' * 32

# -- the API writer ----------------------------------------------------------


class FakeManager:
    """keystoneclient's manager of one kind, holding objects as dicts."""

    def __init__(self, **objects):
        self.objects = objects
        self.updates = []

    def get(self, lid):
        if lid not in self.objects:
            raise ks_exc.NotFound()
        found = dict(self.objects[lid], id=lid)
        return SimpleNamespace(to_dict=lambda: found)

    def update(self, lid, **attrs):
        self.updates.append((lid, attrs))
        self.objects[lid].update(attrs)


@pytest.fixture
def api_writer(conf):
    made = identity.KeystoneWriter(conf, ks_session.Session())
    made.client = SimpleNamespace(
        projects=FakeManager(
            mine={'name': 'legacy', 'domain_id': 'default'},
            admin={'name': 'admin', 'domain_id': 'default'},
            other={'name': 'o', model.MARKER: 'f' * 32},
        )
    )
    return made


def test_the_api_writer_sets_only_the_marker(api_writer):
    projects = api_writer.client.projects
    api_writer.mark('projects', 'mine', GID)
    assert projects.updates == [('mine', {model.MARKER: GID})]
    api_writer.mark('projects', 'mine', GID)
    assert len(projects.updates) == 1  # marked already: nothing to do


@pytest.mark.parametrize(
    'lid, error',
    [
        ('admin', r'protected \(\[identity\]protected_projects\)'),
        ('other', 'not adopted again'),
        ('gone', 'Could not find project: gone'),
    ],
)
def test_the_api_writer_refuses_what_is_not_to_be_marked(
    api_writer, lid, error
):
    with pytest.raises(driver.PermanentError, match=error):
        api_writer.mark('projects', lid, GID)
    assert api_writer.client.projects.updates == []


# -- the database writer -----------------------------------------------------


def hand_made_project(db, lid=LID, name='legacy'):
    with db.begin() as conn:
        conn.execute(
            sa.insert(schema.PROJECT).values(
                rows.main_row(
                    'projects',
                    lid,
                    {'name': name, 'domain_id': 'default', 'description': 'd'},
                    NOW,
                )
            )
        )


def hand_made_user(db, lid, name, hashed):
    with db.begin() as conn:
        conn.execute(
            sa.insert(schema.USER).values(
                rows.main_row('users', lid, {'domain_id': 'default'}, NOW)
            )
        )
        made = conn.execute(
            sa.insert(schema.LOCAL_USER).values(
                rows.local_user_row(
                    lid, {'name': name, 'domain_id': 'default'}
                )
            )
        )
        conn.execute(
            sa.insert(schema.PASSWORD).values(
                rows.password_row(made.inserted_primary_key[0], hashed, NOW)
            )
        )


def extra(db, table, lid):
    with db.connect() as conn:
        found = conn.execute(
            sa.select(table.c.extra).where(table.c.id == lid)
        ).scalar()
    return rows.load_extra(found)


def test_the_database_writer_marks_only_with_the_same_id(ks, engine):  # noqa: F811
    hand_made_project(engine)
    with pytest.raises(driver.PermanentError, match='same id'):
        ks.mark('projects', LID, GID)
    assert extra(engine, schema.PROJECT, LID) == {}
    ks.mark('projects', LID, LID)
    ks.mark('projects', LID, LID)
    assert extra(engine, schema.PROJECT, LID) == {model.MARKER: LID}
    seen = ks.snapshot().projects[LID]
    assert (seen['name'], seen['description']) == ('legacy', 'd')
    assert seen[model.MARKER] == LID
    with pytest.raises(driver.PermanentError, match='Could not find'):
        ks.mark('projects', GID, GID)
    hand_made_project(engine, 'a' * 32, name='admin')
    with pytest.raises(driver.PermanentError, match='protected'):
        ks.mark('projects', 'a' * 32, 'a' * 32)


def test_shared_adoption_through_the_database(ks, engine, ident, api, conf):  # noqa: F811
    """A project and a user made in Keystone's tables by hand: adopted
    with their ids, the user keeping the password hash it had."""
    hand_made_project(engine)
    uid = 'b' * 32
    hashed = rows.hash_password('bobs-own')
    hand_made_user(engine, uid, 'bob', hashed)
    loop = identity_sync.IdentitySync(conf, ks, lambda: api)
    ident.adopt('users', 'bob', 'here')
    ident.adopt('projects', 'legacy', 'here')
    line = loop.run_once()
    assert line.endswith(': 0 change(s)'), line
    adoptions = api.read('identity')['adoptions']
    assert sorted(r['state'] for r in adoptions.values()) == ['done'] * 2
    assert ident.lookup('projects', 'legacy')[0] == LID
    assert ident.lookup('users', 'bob')[0] == uid
    assert extra(engine, schema.PROJECT, LID)[model.MARKER] == LID
    assert extra(engine, schema.USER, uid)[model.MARKER] == uid
    with engine.connect() as conn:
        kept = conn.execute(sa.select(schema.PASSWORD.c.password_hash)).all()
    assert kept == [(hashed,)]
    # The audit pass finds nothing to repair either.
    assert loop.run_once(force=True).endswith(': 0 change(s)')
