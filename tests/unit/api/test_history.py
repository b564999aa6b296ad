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

"""The history routes over a SQLite history store."""

import pytest

from sodos.db import api as db_api
from sodos.db import migration
from tests.unit.api.test_api import assert_error
from tests.unit.db.test_api import T0
from tests.unit.db.test_api import action
from tests.unit.db.test_api import alert


@pytest.fixture
def history(conf):
    migration.upgrade(conf)
    for n in range(3):
        db_api.record_action(conf, **action(n, site='s2' if n else 'here'))
        db_api.record_alert(conf, **alert(n))
        db_api.record_monitoring(
            conf, site='s2', collected_at=T0 + n, summary={'n': n}
        )
    yield conf
    db_api.dispose(conf)


def test_actions_newest_first_by_site_and_limit(client, history):
    status, body, _ = client.get('/v1/history/actions')
    assert status == 200, body
    assert [a['action_id'][-1] for a in body['actions']] == ['2', '1', '0']
    assert body['actions'][0]['result'] == {'server_id': 'srv-2'}
    body = client.get('/v1/history/actions?site=s2&limit=1')[1]
    assert [a['action_id'][-1] for a in body['actions']] == ['2']


def test_closed_alerts(client, history):
    body = client.get('/v1/history/alerts?limit=2')[1]
    assert [a['alert_id'][-1] for a in body['alerts']] == ['2', '1']
    assert body['alerts'][0]['reason'] == 'site is back'


def test_monitoring_samples_of_a_site(client, history):
    body = client.get('/v1/history/monitoring?site=s2')[1]
    assert [s['summary'] for s in body['samples']] == [
        {'n': 0},
        {'n': 1},
        {'n': 2},
    ]
    assert client.get('/v1/history/monitoring?site=s3')[1] == {'samples': []}


@pytest.mark.parametrize(
    'path, words',
    [
        ('/v1/history/monitoring', ['site=NAME']),
        ('/v1/history/actions?limit=0', ['limit']),
        ('/v1/history/actions?limit=abc', ['limit', 'abc']),
        ('/v1/history/actions?limit=1001', ['limit']),
        ('/v1/history/alerts?site=no%20such', ['site']),
        ('/v1/history/alerts?since=1', ['since']),
    ],
)
def test_bad_history_queries(client, history, path, words):
    assert_error(client.get(path), 400, 'invalid_query', *words)


def test_a_database_not_set_up_says_what_to_run(client, conf):
    answer = client.get('/v1/history/actions')
    assert_error(answer, 503, 'unavailable', 'sodos-manage db sync')
    db_api.dispose(conf)
