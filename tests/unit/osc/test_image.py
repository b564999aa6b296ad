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

"""``openstack sodos image ...`` against what the API would answer."""

import pytest

from tests.unit.osc import conftest as fakes

URL = fakes.URL
IMAGE = '6f1c2b9e-3a4d-4e5f-8a7b-9c0d1e2f3a4b'
STATES = ('present', 'copying', 'failed', 'absent', 'deleting')


def image(states=('present', 'absent', 'absent'), target=None, **extra):
    """An image as the API shows it; the first three sites desired."""
    names = ['paris', 'lyon', 'berlin', 'oslo'][: len(states)]
    sites = [
        {
            'site': name,
            'state': state,
            'desired': i < 3,
            'detail': 'copy running from paris' if state == 'copying' else '',
            'action': None,
        }
        for i, (name, state) in enumerate(zip(names, states, strict=True))
    ]
    counts = {s: sum(1 for r in sites if r['state'] == s) for s in STATES}
    counts['desired'] = sum(1 for r in sites if r['desired'])
    counts['desired_present'] = sum(
        1 for r in sites if r['desired'] and r['state'] == 'present'
    )
    record = {
        'id': IMAGE,
        'name': 'golden',
        'state': 'active',
        'target': target or {'kind': 'all'},
        'size': 4194304,
        'disk_format': 'qcow2',
        'container_format': 'bare',
        'os_hash_algo': 'sha512',
        'os_hash_value': 'ab' * 64,
        'checksum': None,
        'origin_site': 'paris',
        'metadata': {'min_ram': 64},
        'failed_sites': {},
        'site_states': counts,
        'sites': sites,
        'created_at': 1764085000.0,
        'updated_at': 1764085000.0,
    }
    record.update(extra)
    return record


def test_distribute_registers_an_unknown_image(run, api):
    api.get(
        URL + '/images/' + IMAGE,
        **fakes.error(404, 'not_found', 'no image %s' % IMAGE),
    )
    api.post(URL + '/images', status_code=201, json={'image': image()})
    result = run('sodos', 'image', 'distribute', IMAGE, '--to', 'all')
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'image': {'id': IMAGE, 'target': {'kind': 'all'}}
    }
    assert 'paris*: present' in result.stdout
    assert 'lyon*: absent' in result.stdout


@pytest.mark.parametrize(
    'args, target',
    [
        (
            ['--to', 'lyon,berlin'],
            {'kind': 'sites', 'sites': ['lyon', 'berlin']},
        ),
        (['--to', 'lyon'], {'kind': 'sites', 'sites': ['lyon']}),
        (
            ['--labels', 'tier=gold,zone=eu'],
            {'kind': 'labels', 'labels': {'tier': 'gold', 'zone': 'eu'}},
        ),
        (['--needed'], {'kind': 'needed'}),
    ],
)
def test_distribute_changes_the_target_of_a_known_image(
    run, api, args, target
):
    api.get(URL + '/images/' + IMAGE, json={'image': image()})
    api.put(
        URL + '/images/%s/target' % IMAGE,
        json={'image': image(target=target)},
    )
    result = run('sodos', 'image', 'distribute', IMAGE, *args, '-f', 'json')
    assert result.rc == 0, result.stderr
    assert api.last_request.method == 'PUT'
    assert api.last_request.json() == {'target': target}
    assert result.json()['target'] == target


def test_distribute_by_name_of_a_registered_image(run, api):
    api.get(URL + '/images', json={'images': [image()]})
    api.get(URL + '/images/' + IMAGE, json={'image': image()})
    api.put(URL + '/images/%s/target' % IMAGE, json={'image': image()})
    result = run('sodos', 'image', 'distribute', 'golden', '--to', 'all')
    assert result.rc == 0, result.stderr
    assert api.last_request.url == URL + '/images/%s/target' % IMAGE


def test_distribute_of_an_unknown_name_says_to_give_the_id(run, api):
    api.get(URL + '/images', json={'images': []})
    result = run('sodos', 'image', 'distribute', 'golden', '--to', 'all')
    assert result.rc == 1
    assert 'no registered image is named golden' in result.stderr
    assert api.call_count == 1


@pytest.mark.parametrize(
    'args, words',
    [
        ([], 'one of the arguments --to --labels --needed is required'),
        (['--to', 'all', '--labels', 'a=b'], 'not allowed with argument'),
        (['--labels', 'tier'], 'key=value'),
        (['--to', 'lyon,,berlin'], 'site names separated by commas'),
        (['--to', 'all', '--timeout', '0'], '--timeout'),
    ],
)
def test_bad_distribute_arguments_send_nothing(run, api, args, words):
    result = run('sodos', 'image', 'distribute', IMAGE, *args)
    assert result.rc == 2
    assert words in result.stderr
    assert api.call_count == 0


def test_distribute_wait_shows_progress_until_every_site_has_it(run, api):
    api.get(
        URL + '/images/' + IMAGE,
        [
            {'json': {'image': image()}},
            {'json': {'image': image(('present', 'copying', 'absent'))}},
            {'json': {'image': image(('present', 'present', 'copying'))}},
            {'json': {'image': image(('present', 'present', 'copying'))}},
            {
                'json': {
                    'image': image(('present', 'present', 'present', 'absent'))
                }
            },
        ],
    )
    api.put(URL + '/images/%s/target' % IMAGE, json={'image': image()})
    result = run(
        'sodos', 'image', 'distribute', IMAGE, '--to', 'all', '--wait',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert result.stderr.splitlines() == [
        'image golden: 1/3 sites present, 1 copying',
        'image golden: 2/3 sites present, 1 copying',
        'image golden: 3/3 sites present',
    ]
    assert result.json()['site_states']['desired_present'] == 3


def test_distribute_wait_times_out_with_the_last_progress(run, api):
    api.get(URL + '/images/' + IMAGE, json={'image': image()})
    api.put(URL + '/images/%s/target' % IMAGE, json={'image': image()})
    result = run(
        'sodos', 'image', 'distribute', IMAGE, '--to', 'all', '--wait',
        '--timeout', '0.05',
    )  # fmt: skip
    assert result.rc == 1
    assert 'timed out after 0.05 s' in result.stderr
    assert '(last: image golden: 1/3 sites present)' in result.stderr


def test_a_refused_target_shows_the_api_message(run, api):
    api.get(URL + '/images/' + IMAGE, json={'image': image()})
    api.put(
        URL + '/images/%s/target' % IMAGE,
        **fakes.error(409, 'conflict', 'target: unknown site(s) rome'),
    )
    result = run('sodos', 'image', 'distribute', IMAGE, '--to', 'rome')
    assert result.rc == 1
    assert 'target: unknown site(s) rome (HTTP 409 conflict' in result.stderr


def test_list(run, api):
    api.get(
        URL + '/images',
        json={
            'images': [
                image(('present', 'copying', 'failed')),
                image(
                    id='0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
                    name='other',
                    target={'kind': 'sites', 'sites': ['lyon']},
                ),
            ]
        },
    )
    result = run('sodos', 'image', 'list')
    assert result.rc == 0, result.stderr
    assert 'sites: lyon' in result.stdout
    rows = run('sodos', 'image', 'list', '-f', 'json').json()
    assert rows[0] == {
        'ID': IMAGE,
        'Name': 'golden',
        'State': 'active',
        'Target': {'kind': 'all'},
        'Size': 4194304,
        'Present': 1,
        'Copying': 1,
        'Failed': 1,
        'Desired': 3,
    }


def test_show_and_status(run, api):
    api.get(
        URL + '/images/' + IMAGE,
        json={'image': image(('present', 'copying', 'absent', 'absent'))},
    )
    shown = run('sodos', 'image', 'show', IMAGE, '-f', 'json').json()
    assert shown['id'] == IMAGE
    assert shown['metadata'] == {'min_ram': 64}
    assert shown['sites'][1]['state'] == 'copying'
    result = run('sodos', 'image', 'copy', 'list', IMAGE)
    assert result.rc == 0, result.stderr
    assert 'copy running from paris' in result.stdout
    rows = run('sodos', 'image', 'copy', 'list', IMAGE, '-f', 'json').json()
    assert rows == [
        {'Site': 'paris', 'State': 'present', 'Desired': True, 'Detail': ''},
        {
            'Site': 'lyon',
            'State': 'copying',
            'Desired': True,
            'Detail': 'copy running from paris',
        },
        {'Site': 'berlin', 'State': 'absent', 'Desired': True, 'Detail': ''},
        {'Site': 'oslo', 'State': 'absent', 'Desired': False, 'Detail': ''},
    ]


def test_delete_wait_until_gone(run, api):
    api.get(
        URL + '/images/' + IMAGE,
        [
            {'json': {'image': image()}},
            {'json': {'image': image(state='deleting')}},
            fakes.error(404, 'not_found', 'no image %s' % IMAGE),
        ],
    )
    api.delete(URL + '/images/' + IMAGE, status_code=204)
    result = run('sodos', 'image', 'delete', IMAGE, '--wait')
    assert result.rc == 0, result.stderr
    assert result.stderr.splitlines() == [
        'image golden: deleting, at 1 site(s)',
        'image golden: deleted at every site',
    ]


def test_delete_reports_the_images_it_could_not_delete(run, api):
    api.get(URL + '/images', json={'images': []})
    api.get(URL + '/images/' + IMAGE, json={'image': image()})
    api.delete(URL + '/images/' + IMAGE, status_code=204)
    result = run('sodos', 'image', 'delete', IMAGE, 'nosuch')
    assert result.rc == 1
    assert 'nosuch: no registered image is named nosuch' in result.stderr
    assert '1 of 2 image(s) not deleted: nosuch' in result.stderr
    assert api.request_history[1].method == 'DELETE'
