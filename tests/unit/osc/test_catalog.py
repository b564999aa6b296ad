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

"""``openstack sodos catalog list`` against what the API would answer."""

from tests.unit.osc import conftest as fakes

URL = fakes.URL


def row(site, service_type='image', interface='public'):
    return {
        'site': site,
        'region': 'Region-' + site,
        'service_type': service_type,
        'service_name': 'glance',
        'interface': interface,
        'url': 'http://%s.example:9292' % site,
        'updated_at': 1764085000.0,
    }


def test_lists_every_site_by_region(run, api):
    api.get(URL + '/catalog', json={'catalog': [row('paris'), row('lyon')]})
    result = run('sodos', 'catalog', 'list')
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    header = [cell.strip() for cell in lines[1].split('|')[1:-1]]
    assert header == [
        'Region',
        'Site',
        'Service Type',
        'Service Name',
        'Interface',
        'URL',
    ]
    assert 'Region-paris' in result.stdout
    assert 'http://lyon.example:9292' in result.stdout
    assert api.last_request.qs == {}


def test_json_and_filters(run, api):
    api.get(URL + '/catalog', json={'catalog': [row('paris')]})
    result = run(
        'sodos',
        'catalog',
        'list',
        '--region',
        'Region-paris',
        '--service-type',
        'image',
        '--site',
        'paris',
        '-f',
        'json',
    )
    assert result.rc == 0, result.stderr
    assert result.json() == [
        {
            'Region': 'Region-paris',
            'Site': 'paris',
            'Service Type': 'image',
            'Service Name': 'glance',
            'Interface': 'public',
            'URL': 'http://paris.example:9292',
        }
    ]
    # requests lower-cases the query string it parses.
    assert api.last_request.qs == {
        'region': ['region-paris'],
        'service_type': ['image'],
        'site': ['paris'],
    }


def test_an_api_error_is_shown_without_a_traceback(run, api):
    api.get(
        URL + '/catalog',
        **fakes.error(
            400, 'invalid_query', "region: '' must be longer than or equal"
        ),
    )
    result = run('sodos', 'catalog', 'list', '--region', '')
    assert result.rc == 1
    assert 'invalid_query' in result.stderr
    assert fakes.REQUEST_ID in result.stderr
    assert 'Traceback' not in result.stderr
