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

"""GET /v1/catalog over the in-memory KB: every site's endpoints."""

import pytest

from sodos.api import policies
from sodos.api.policies import base
from sodos.kb import commands
from tests.unit.api.conftest import Client
from tests.unit.api.test_api import assert_error


def endpoint(site, service_type='image', interface='public'):
    return {
        'service_type': service_type,
        'service_name': {'image': 'glance', 'compute': 'nova'}[service_type],
        'interface': interface,
        'region': 'Region-' + site,
        'url': 'http://%s.example/%s' % (site, service_type),
    }


def publish(fed, site, *endpoints):
    made = commands.make(
        'site.catalog', {'site': site, 'endpoints': list(endpoints)}, site
    )
    assert fed.submit(made)['ok']


@pytest.fixture
def published(fed):
    publish(fed, 'here', endpoint('here'), endpoint('here', 'compute'))
    publish(fed, 's2', endpoint('s2', interface='internal'), endpoint('s2'))
    publish(fed, 's3', endpoint('s3'))
    return fed


def test_lists_every_sites_endpoints_by_site_and_region(client, published):
    status, body, _ = client.get('/v1/catalog')
    assert status == 200, body
    rows = body['catalog']
    assert [
        (r['site'], r['region'], r['service_type'], r['interface'])
        for r in rows
    ] == [
        ('here', 'Region-here', 'compute', 'public'),
        ('here', 'Region-here', 'image', 'public'),
        ('s2', 'Region-s2', 'image', 'internal'),
        ('s2', 'Region-s2', 'image', 'public'),
        ('s3', 'Region-s3', 'image', 'public'),
    ]
    assert rows[1]['url'] == 'http://here.example/image'
    assert rows[1]['service_name'] == 'glance'
    assert isinstance(rows[1]['updated_at'], float)


def test_filters(client, published):
    def sites_of(query):
        status, body, _ = client.get('/v1/catalog' + query)
        assert status == 200, body
        return [(r['site'], r['service_type']) for r in body['catalog']]

    assert sites_of('?region=Region-s2') == [('s2', 'image')] * 2
    assert sites_of('?service_type=compute') == [('here', 'compute')]
    assert sites_of('?site=s3&service_type=image') == [('s3', 'image')]
    assert sites_of('?region=nowhere') == []


def test_a_site_that_left_is_not_listed(client, published):
    published.propose('site.leave', {'site': 's3'})
    status, body, _ = client.get('/v1/catalog')
    assert {r['site'] for r in body['catalog']} == {'here', 's2'}


def test_no_catalog_yet_is_an_empty_list(client, fed):
    status, body, _ = client.get('/v1/catalog')
    assert (status, body) == (200, {'catalog': []})


@pytest.mark.parametrize(
    ('query', 'words'),
    [
        ('?regoin=x', ["unknown query parameter 'regoin'", 'region']),
        ('?region=', ['region', 'longer than']),
        ('?site=no%20spaces', ['site']),
        ('?region=a&region=b', ['region given twice']),
    ],
)
def test_a_bad_query_is_refused(client, published, query, words):
    assert_error(
        client.get('/v1/catalog' + query), 400, 'invalid_query', *words
    )


@pytest.mark.parametrize('role', ['reader', 'member', 'admin'])
def test_readers_list_the_catalog(make_app, published, tokens, role):
    app = Client(make_app('keystone'), token=tokens[role])
    status, body, _ = app.get('/v1/catalog')
    assert status == 200, body
    assert len(body['catalog']) == 5


def test_other_roles_do_not(make_app, published, tokens):
    app = Client(make_app('keystone'), token=tokens['observer'])
    assert_error(
        app.get('/v1/catalog'), 403, 'forbidden', 'sodos:catalog:list'
    )


def test_the_policy_rule_is_that_of_the_contract():
    rules = {
        rule.name: rule.check_str
        for rule in policies.list_rules()
        if rule.name.startswith('sodos:catalog:')
    }
    assert rules == {'sodos:catalog:list': base.READER}
