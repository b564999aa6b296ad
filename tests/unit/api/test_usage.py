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

"""GET /v1/usage: its filters, its period, and whose usage each caller
sees (a project's reader, an owner's admin, the federation admin)."""

import pytest

from sodos.db import api as db_api
from sodos.db import migration
from tests.unit.api.conftest import Client
from tests.unit.api.test_api import assert_error
from tests.unit.api.test_owners import ORG_A
from tests.unit.api.test_owners import ORG_B
from tests.unit.api.test_owners import fed  # noqa: F401 (fixture)
from tests.unit.api.test_owners import tokens  # noqa: F401 (fixture)

H0 = 1_796_083_200.0  # 2026-12-01T00:00:00Z, an hour's start
USED = {'vcpu_hours': 2.0, 'ram_gb_hours': 4.0, 'member_hours': 1.0}


@pytest.fixture
def usage(conf):
    migration.upgrade(conf)
    rows = {
        (H0, 'here', ORG_A, 'orga-project'): USED,
        (H0 + 3600, 'here', ORG_A, 'orga-project'): USED,
        (H0, 's2', ORG_A, 'orga-project'): USED,
        (H0, 's2', ORG_B, 'orgb-project'): USED,
        (H0 + 7200, 's2', ORG_B, 'other-b'): USED,
    }
    db_api.add_usage(conf, rows, H0 + 7300)
    yield conf
    db_api.dispose(conf)


@pytest.fixture
def as_(make_app, fed, tokens):  # noqa: F811 (fixtures)
    app = make_app('keystone')
    return lambda who: Client(app, token=tokens[who])


def keys(body):
    return [
        (r.get('owner'), r.get('project'), r.get('site'))
        for r in body['usage']
    ]


def test_the_federation_admin_sees_every_owner(as_, usage):
    status, body, _ = as_('federation-admin').get('/v1/usage')
    assert status == 200, body
    assert keys(body) == [
        (ORG_A, 'orga-project', 'here'),
        (ORG_A, 'orga-project', 's2'),
        (ORG_B, 'orgb-project', 's2'),
        (ORG_B, 'other-b', 's2'),
    ]
    here = body['usage'][0]
    assert here['vcpu_hours'] == 4.0
    assert here['ram_gb_hours'] == 8.0
    assert here['member_hours'] == 2.0
    assert body['filters'] == {}


def test_filters_period_and_grouping(as_, usage):
    admin = as_('federation-admin')
    body = admin.get('/v1/usage?by=owner')[1]
    assert [(r['owner'], r['vcpu_hours']) for r in body['usage']] == [
        (ORG_A, 6.0),
        (ORG_B, 4.0),
    ]
    body = admin.get('/v1/usage?site=s2&by=site')[1]
    assert body['usage'] == [
        {
            'site': 's2',
            'vcpu_hours': 6.0,
            'ram_gb_hours': 12.0,
            'member_hours': 3.0,
        }
    ]
    # [start, end): the hour at H0+1h only, as an ISO time and a number.
    path = '/v1/usage?by=hour,owner&start=2026-12-01T01:00:00Z&end=%d' % (
        H0 + 7200
    )
    body = admin.get(path)[1]
    assert [(r['hour'], r['owner']) for r in body['usage']] == [
        (H0 + 3600, ORG_A)
    ]
    body = admin.get('/v1/usage?project=other-b&by=project')[1]
    assert [(r['project'], r['vcpu_hours']) for r in body['usage']] == [
        ('other-b', 2.0)
    ]


def test_an_owners_admin_sees_its_owners_projects_only(as_, usage):
    body = as_('admin@b').get('/v1/usage')[1]
    assert keys(body) == [
        (ORG_B, 'orgb-project', 's2'),
        (ORG_B, 'other-b', 's2'),
    ]
    assert body['filters'] == {'owner': ORG_B}
    # Another owner's usage is refused, naming the rules.
    answer = as_('admin@b').get('/v1/usage?owner=' + ORG_A)
    assert_error(answer, 403, 'forbidden', 'sodos:usage:list:owner')


def test_a_project_reader_sees_its_project_only(as_, usage):
    body = as_('reader@b').get('/v1/usage')[1]
    assert keys(body) == [(ORG_B, 'orgb-project', 's2')]
    assert body['filters'] == {'project': 'orgb-project'}
    body = as_('member@a').get('/v1/usage?project=orga-project')[1]
    assert {k[1] for k in keys(body)} == {'orga-project'}
    for path in ('/v1/usage?project=other-b', '/v1/usage?owner=' + ORG_B):
        answer = as_('reader@b').get(path)
        assert_error(answer, 403, 'forbidden', 'sodos:usage:list:project')


@pytest.mark.parametrize(
    'path, words',
    [
        ('/v1/usage?owner=orgz', ['owner', "unknown owner 'orgz'", ORG_A]),
        ('/v1/usage?owner=a%20b', ['owner', 'not an id']),
        ('/v1/usage?start=yesterday', ['start', 'not a time', 'ISO 8601']),
        ('/v1/usage?end=2026-13-01', ['end', 'not a time']),
        ('/v1/usage?end=99999999999999999999', ['end', 'not a time']),
        (
            '/v1/usage?start=2026-12-02&end=2026-12-01',
            ['end', 'not after start'],
        ),
        ('/v1/usage?by=owner,day', ['by', "unknown 'day'"]),
        ('/v1/usage?by=', ['by', 'empty']),
        ('/v1/usage?site=no%20such', ['site']),
        ('/v1/usage?since=1', ['since']),
    ],
)
def test_bad_queries_name_the_field(as_, usage, path, words):
    assert_error(
        as_('federation-admin').get(path), 400, 'invalid_query', *words
    )


def test_a_database_not_set_up_says_what_to_run(as_, conf):
    answer = as_('federation-admin').get('/v1/usage')
    assert_error(answer, 503, 'unavailable', 'sodos-manage db sync')
