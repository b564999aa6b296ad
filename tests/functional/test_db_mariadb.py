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

"""The history store on MariaDB, as production runs it.

Needs the MariaDB server at 127.0.0.1:3306 (root, no password), or
SODOS_TEST_MARIADB_URL; skipped without it, failed under CI=true. Each
test gets a database of its own, dropped afterwards.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from sodos.cmd import manage
from sodos.db import api
from sodos.db import migration
from tests.unit.db import conftest as db_conftest
from tests.unit.db import test_api
from tests.unit.db import test_migration

pymysql = pytest.importorskip('pymysql')

DEFAULT_SERVER_URL = 'mysql+pymysql://root@127.0.0.1:3306'


def _server_url():
    return os.environ.get('SODOS_TEST_MARIADB_URL', DEFAULT_SERVER_URL)


@pytest.fixture
def mariadb_url():
    """The URL of a new, empty database; dropped after the test."""
    server = sa.engine.make_url(_server_url()).set(database=None)
    engine = sa.create_engine(server, poolclass=sa.NullPool)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        message = 'MariaDB is not reachable at %s: %s' % (
            server.render_as_string(hide_password=True),
            str(exc.orig).splitlines()[0],
        )
        if os.environ.get('CI') == 'true':
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    name = 'sodos_test_%s' % uuid.uuid4().hex[:12]
    with engine.begin() as connection:
        connection.execute(
            sa.text('CREATE DATABASE %s CHARACTER SET utf8mb4' % name)
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        engine.dispose()


@pytest.fixture
def db(tmp_path, mariadb_url):
    conf = db_conftest.make_conf(tmp_path, mariadb_url)
    try:
        yield conf
    finally:
        api.dispose(conf)


def test_sync_makes_the_schema_of_the_models(db, tmp_path, capsys):
    config = tmp_path / 'sodos.conf'
    config.write_text('[database]\nconnection = %s\n' % db.database.connection)
    argv = ['--config-file', str(config), 'db']
    assert manage.main(argv + ['version']) == 0
    assert manage.main(argv + ['sync']) == 0
    assert manage.main(argv + ['version']) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == ['The history database is at revision 0002.', '0002']
    assert test_migration.schema_diff(db) == []
    engine = api.get_engine(db)
    with engine.connect() as connection:
        options = connection.execute(
            sa.text(
                'SELECT table_name, engine, table_collation '
                'FROM information_schema.tables WHERE table_schema = '
                'DATABASE()'
            )
        ).all()
    assert {row[1] for row in options} == {'InnoDB'}
    assert all(row[2].startswith('utf8mb4') for row in options)


def test_a_round_trip(db):
    migration.upgrade(db)
    api.record_action(db, **test_api.action(1))
    api.record_action(db, **test_api.action(1))
    api.record_action(
        db, **test_api.action(2, site='site-b', result={'note': 'ça va ✓'})
    )
    assert api.recent_actions(db, site='site-a') == [test_api.action(1)]
    assert api.recent_actions(db)[0]['result'] == {'note': 'ça va ✓'}

    api.record_alert(db, **test_api.alert(1))
    assert api.alerts(db) == [test_api.alert(1)]

    t0 = test_api.T0
    for n in range(3):
        assert api.record_monitoring(
            db, site='site-a', collected_at=t0 + n * 0.001, summary={'n': n}
        )
    assert not api.record_monitoring(
        db, site='site-a', collected_at=t0, summary={'n': 0}
    )
    history = api.monitoring_history(db, 'site-a', since=t0 + 0.0005)
    # Microseconds survive: MySQL's plain DATETIME would merge these.
    assert [h['summary']['n'] for h in history] == [1, 2]
    assert history[0]['collected_at'] == pytest.approx(t0 + 0.001, abs=1e-6)


def test_a_wrong_password_is_one_clear_error(tmp_path, mariadb_url):
    url = sa.engine.make_url(mariadb_url).set(
        username='sodos_nobody', password='wrong'
    )
    config = tmp_path / 'sodos.conf'
    config.write_text(
        '[database]\nconnection = %s\n'
        % url.render_as_string(hide_password=False)
    )
    argv = ['--config-file', str(config), 'db', 'sync']
    assert manage.main(argv) == 2


def test_usage_adds_up_in_double_precision(db):
    migration.upgrade(db)
    hour = 1_796_083_200.0
    key = (hour, 'site-a', 'orga', 'p' * 32)
    # A small sample added to a large total: MySQL's FLOAT would drop it.
    api.add_usage(db, {key: {'vcpu_hours': 1e6}}, hour)
    api.add_usage(db, {key: {'vcpu_hours': 0.001, 'member_hours': 1.0}}, hour)
    [row] = api.usage(db, owner='orga', start=hour, end=hour + 3600)
    assert row['vcpu_hours'] == 1e6 + 0.001
    assert row['member_hours'] == 1.0
    assert row['period_start'] == hour
