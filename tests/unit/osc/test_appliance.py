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

import json

import pytest

from tests.unit.osc import conftest as fakes

URL = fakes.URL
SPEC_YAML = """\
name: shop
priority: 50
members:
  - {name: web, image: cirros, flavor: m1.small, count: 2}
"""
SPEC = {
    'name': 'shop',
    'priority': 50,
    'members': [
        {'name': 'web', 'image': 'cirros', 'flavor': 'm1.small', 'count': 2}
    ],
}


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / 'shop.yaml'
    path.write_text(SPEC_YAML)
    return str(path)


def test_create_sends_the_spec(run, api, spec_file, tmp_path):
    api.post(
        URL + '/appliances',
        status_code=201,
        json={'appliance': fakes.appliance(('unplaced', 'unplaced'))},
    )
    result = run('sodos', 'appliance', 'create', '--file', spec_file)
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {'appliance': SPEC}
    assert 'web-0@- unplaced' in result.stdout
    # JSON files (even indented with tabs, which YAML refuses), and the
    # API's own body, are read too.
    as_json = tmp_path / 'shop.json'
    as_json.write_text(json.dumps({'appliance': SPEC}, indent='\t'))
    result = run('sodos', 'appliance', 'create', '--file', str(as_json))
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {'appliance': SPEC}


def test_create_wait_until_every_member_is_active(run, api, spec_file):
    api.post(
        URL + '/appliances',
        status_code=201,
        json={'appliance': fakes.appliance(('unplaced', 'unplaced'))},
    )
    api.get(
        URL + '/appliances/a1b2c3',
        [
            {'json': {'appliance': fakes.appliance(('BUILD', 'unplaced'))}},
            {'json': {'appliance': fakes.appliance(('BUILD', 'unplaced'))}},
            {'json': {'appliance': fakes.appliance(('ACTIVE', 'BUILD'))}},
            {'json': {'appliance': fakes.appliance(('ACTIVE', 'ACTIVE'))}},
        ],
    )
    result = run(
        'sodos', 'appliance', 'create', '--file', spec_file, '--wait',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert [m['state'] for m in result.json()['members']] == [
        'ACTIVE',
        'ACTIVE',
    ]
    # One line per change of progress, on stderr; stdout stays JSON.
    assert result.stderr.splitlines() == [
        'appliance shop: 0/2 members ACTIVE (1 BUILD, 1 unplaced)',
        'appliance shop: 1/2 members ACTIVE (1 BUILD)',
        'appliance shop: 2/2 members ACTIVE',
    ]


def test_create_wait_through_a_leader_change(run, api, spec_file):
    api.post(
        URL + '/appliances',
        status_code=201,
        json={'appliance': fakes.appliance(('BUILD', 'BUILD'))},
    )
    api.get(
        URL + '/appliances/a1b2c3',
        [
            fakes.error(503, 'unavailable', 'no quorum: electing'),
            {'json': {'appliance': fakes.appliance()}},
        ],
    )
    result = run('sodos', 'appliance', 'create', '--file', spec_file, '--wait')
    assert result.rc == 0, result.stderr
    assert result.stderr.splitlines() == [
        'API unavailable: no quorum: electing',
        'appliance shop: 2/2 members ACTIVE',
    ]


def test_create_wait_stops_on_other_errors(run, api, spec_file):
    api.post(
        URL + '/appliances',
        status_code=201,
        json={'appliance': fakes.appliance(('BUILD', 'BUILD'))},
    )
    api.get(
        URL + '/appliances/a1b2c3',
        **fakes.error(403, 'forbidden', 'sodos:appliance:get is disallowed'),
    )
    result = run('sodos', 'appliance', 'create', '--file', spec_file, '--wait')
    assert result.rc == 1
    assert 'is disallowed (HTTP 403 forbidden' in result.stderr
    assert api.call_count == 2


def test_create_wait_timeout(run, api, spec_file):
    api.post(
        URL + '/appliances',
        status_code=201,
        json={'appliance': fakes.appliance(('BUILD', 'ERROR'))},
    )
    api.get(
        URL + '/appliances/a1b2c3',
        json={'appliance': fakes.appliance(('ACTIVE', 'ERROR'))},
    )
    result = run(
        'sodos', 'appliance', 'create', '--file', spec_file,
        '--wait', '--timeout', '0.05',
    )  # fmt: skip
    assert result.rc != 0
    assert (
        'timed out after 0.05 s waiting for every member of appliance shop '
        'to be ACTIVE (last: appliance shop: 1/2 members ACTIVE (1 ERROR))'
    ) in result.stderr


def test_create_infeasible(run, api, spec_file):
    api.post(
        URL + '/appliances',
        **fakes.error(
            409, 'infeasible', 'member web: no site has flavor m1.small'
        ),
    )
    result = run('sodos', 'appliance', 'create', '--file', spec_file)
    assert result.rc != 0
    assert (
        'member web: no site has flavor m1.small (HTTP 409 infeasible, '
        'request %s)' % fakes.REQUEST_ID
    ) in result.stderr


@pytest.mark.parametrize(
    'name, content, message',
    [
        ('bad.yaml', 'name: [shop\n', 'is neither YAML nor JSON'),
        (
            'bad.json',
            '{"name": "shop",}',
            'is not valid JSON: Expecting property name enclosed in double '
            'quotes: line 1 column 17',
        ),
        ('bad.yaml', '- name: shop\n', 'must hold one appliance spec'),
        ('bad.yaml', '', 'must hold one appliance spec'),
        ('bad.yaml', b'\xff\xfe', 'cannot read the spec file'),
    ],
)
def test_create_bad_file_sends_nothing(
    run, api, tmp_path, name, content, message
):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = run('sodos', 'appliance', 'create', '--file', str(path))
    assert result.rc != 0
    assert message in result.stderr
    assert str(path) in result.stderr
    assert not api.called


def test_create_missing_file(run, api, tmp_path):
    path = str(tmp_path / 'nope.yaml')
    result = run('sodos', 'appliance', 'create', '--file', path)
    assert result.rc != 0
    assert 'cannot read the spec file %s' % path in result.stderr
    assert 'No such file' in result.stderr
    assert not api.called


def test_list(run, api):
    api.get(
        URL + '/appliances',
        json={
            'appliances': [
                {
                    'id': 'a1b2c3',
                    'name': 'shop',
                    'priority': 50,
                    'members_total': 3,
                    'members_placed': 3,
                    'members_active': 2,
                }
            ]
        },
    )
    rows = run('sodos', 'appliance', 'list', '-f', 'json').json()
    assert rows == [
        {
            'ID': 'a1b2c3',
            'Name': 'shop',
            'Priority': 50,
            'Members Total': 3,
            'Members Placed': 3,
            'Members Active': 2,
        }
    ]


def test_show_by_id_or_name(run, api):
    api.get(URL + '/appliances/a1b2c3', json={'appliance': fakes.appliance()})
    for ref in ('shop', 'other'):
        api.get(
            URL + '/appliances/' + ref,
            **fakes.error(404, 'not_found', 'no appliance %s' % ref),
        )
    api.get(
        URL + '/appliances',
        json={'appliances': [{'id': 'a1b2c3', 'name': 'shop'}]},
    )
    by_id = run('sodos', 'appliance', 'show', 'a1b2c3', '-f', 'json').json()
    by_name = run('sodos', 'appliance', 'show', 'shop', '-f', 'json').json()
    assert by_id == by_name
    assert by_id['spec']['name'] == 'shop'
    missing = run('sodos', 'appliance', 'show', 'other')
    assert missing.rc != 0
    assert 'no appliance other (HTTP 404 not_found' in missing.stderr


def test_show_gives_each_members_server_and_fixed_addresses(run, api):
    record = fakes.appliance(('ACTIVE', 'BUILD'))
    record['members'][0]['addresses'] = ['10.20.0.5', '10.30.0.7']
    api.get(URL + '/appliances/a1b2c3', json={'appliance': record})
    shown = run('sodos', 'appliance', 'show', 'a1b2c3')
    assert shown.rc == 0, shown.stderr
    assert 'web-0@paris ACTIVE srv-0 10.20.0.5,10.30.0.7' in shown.stdout
    assert 'web-1@paris BUILD srv-1' in shown.stdout
    as_json = run('sodos', 'appliance', 'show', 'a1b2c3', '-f', 'json').json()
    assert as_json['members'][0]['addresses'] == ['10.20.0.5', '10.30.0.7']


def test_show_ambiguous_name(run, api):
    api.get(
        URL + '/appliances/shop',
        **fakes.error(404, 'not_found', 'no appliance shop'),
    )
    api.get(
        URL + '/appliances',
        json={
            'appliances': [
                {'id': 'a1', 'name': 'shop'},
                {'id': 'a2', 'name': 'shop'},
            ]
        },
    )
    result = run('sodos', 'appliance', 'show', 'shop')
    assert result.rc != 0
    assert 'several appliances are named shop' in result.stderr
    assert 'a1, a2' in result.stderr


def test_delete_wait_until_gone(run, api):
    api.delete(URL + '/appliances/a1b2c3', status_code=204)
    api.get(
        URL + '/appliances/a1b2c3',
        [
            {'json': {'appliance': fakes.appliance()}},
            {'json': {'appliance': fakes.appliance()}},
            {'json': {'appliance': fakes.appliance(('ACTIVE',))}},
            fakes.error(404, 'not_found', 'gone'),
        ],
    )
    result = run('sodos', 'appliance', 'delete', 'a1b2c3', '--wait')
    assert result.rc == 0, result.stderr
    assert result.stderr.splitlines() == [
        'appliance shop: deleting, 2 member(s) left',
        'appliance shop: deleting, 1 member(s) left',
        'appliance shop: deleted',
    ]


def test_delete_reports_each_failure(run, api):
    api.get(URL + '/appliances/a1b2c3', json={'appliance': fakes.appliance()})
    api.delete(URL + '/appliances/a1b2c3', status_code=204)
    api.get(URL + '/appliances/zz', **fakes.error(404, 'not_found', 'no zz'))
    api.get(URL + '/appliances', json={'appliances': []})
    result = run('sodos', 'appliance', 'delete', 'zz', 'a1b2c3')
    assert result.rc != 0
    assert 'zz: no zz (HTTP 404 not_found' in result.stderr
    assert '1 of 2 appliance(s) not deleted: zz' in result.stderr
    assert [r.method for r in api.request_history].count('DELETE') == 1


@pytest.mark.parametrize(
    'name, content, message',
    [
        (
            'nan.json',
            '{"name": "shop", "members": [{"name": "w", "count": NaN}]}',
            'spec.members[0].count: NaN is not allowed',
        ),
        (
            'nan.yaml',
            'name: shop\nmembers: [{name: w, count: .nan}]\n',
            'spec.members[0].count: NaN is not allowed',
        ),
        ('bad.json', '{"name": "\\ud800"}', 'spec.name: string has a lone'),
        # The lone surrogate in YAML (sodos-manage's test, moved here).
        ('bad.yaml', 'name: "shop\\ud800"\n', 'spec.name: string has a lone'),
        ('deep.json', '[' * 5000 + ']' * 5000, 'nests deeper than 64 levels'),
        ('deep.yaml', 'a: ' + '[' * 5000 + ']' * 5000, 'nests deeper'),
    ],
)
def test_create_refuses_what_json_cannot_carry(
    run, api, tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_text(content)
    result = run('sodos', 'appliance', 'create', '--file', str(path))
    assert result.rc != 0
    assert message in result.stderr
    assert str(path) in result.stderr
    assert 'Traceback' not in result.stderr
    assert not api.called


def test_create_for_another_project_sends_its_id(run, api, spec_file):
    api.post(
        URL + '/appliances',
        status_code=201,
        json={'appliance': fakes.appliance(('unplaced', 'unplaced'))},
    )
    result = run(
        'sodos', 'appliance', 'create', '--file', spec_file,
        '--project', 'f' * 32,
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'appliance': dict(SPEC, project_id='f' * 32)
    }


@pytest.mark.parametrize(
    'argv, query, column',
    [([], '', False), (['--all-projects'], 'all_projects=true', True)],
)
def test_list_all_projects(run, api, argv, query, column):
    row = {
        'id': 'a1b2c3',
        'name': 'shop',
        'priority': 50,
        'project_id': 'f' * 32,
        'members_total': 2,
        'members_placed': 2,
        'members_active': 2,
    }
    api.get(URL + '/appliances', json={'appliances': [row]})
    result = run('sodos', 'appliance', 'list', '-f', 'json', *argv)
    assert result.rc == 0, result.stderr
    assert api.last_request.query == query
    listed = json.loads(result.stdout)[0]
    assert ('Project ID' in listed) == column


def test_show_says_which_site_refused_a_member_and_why(run, api):
    record = fakes.appliance(('ACTIVE',))
    record['members'][0]['refused'] = [
        {'site': 'lyon', 'reason': 'Quota exceeded for instances'}
    ]
    api.get(URL + '/appliances/a1b2c3', json={'appliance': record})
    result = run('sodos', 'appliance', 'show', 'a1b2c3')
    assert result.rc == 0, result.stderr
    assert (
        'web-0@paris ACTIVE srv-0 (refused by lyon: Quota exceeded for '
        'instances)' in result.stdout
    )
