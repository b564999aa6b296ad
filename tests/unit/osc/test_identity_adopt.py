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

"""``openstack sodos identity ... adopt`` and ``identity adoption ...``
against what the API would answer."""

import pytest

from tests.unit.osc import conftest as fakes

URL = fakes.URL + '/identity/adoptions'
RID = 'a' * 32
GID = 'b' * 32


def adoption(state='pending', **extra):
    record = {
        'id': RID,
        'kind': 'project',
        'name': 'legacy',
        'domain_id': 'default',
        'site': 'paris',
        'state': state,
        'reason': None,
        'note': None,
        'object_id': GID if state == 'done' else None,
        'site_id': 'p-1' if state == 'done' else None,
        'requested_by': 'admin',
        'created_at': 1764085000.0,
        'finished_at': None if state == 'pending' else 1764085003.0,
    }
    record.update(extra)
    return record


@pytest.mark.parametrize('kind', ['project', 'user', 'group'])
def test_adopt_sends_the_request_and_shows_it(run, api, kind):
    api.post(URL, status_code=201, json={'adoption': adoption(kind=kind)})
    result = run(
        'sodos', 'identity', kind, 'adopt', 'legacy', '--site', 'paris',
        '--domain', 'acme', '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'adoption': {
            'kind': kind,
            'name': 'legacy',
            'site': 'paris',
            'domain': 'acme',
        }
    }
    shown = result.json()
    assert (shown['id'], shown['state']) == (RID, 'pending')
    assert api.call_count == 1  # no --wait: no poll


def test_adopt_needs_a_site(run, api):
    result = run('sodos', 'identity', 'project', 'adopt', 'legacy')
    assert result.rc != 0
    assert '--site' in result.stderr
    assert not api.called


def test_adopt_wait_polls_until_done(run, api):
    api.post(URL, status_code=201, json={'adoption': adoption()})
    api.get(
        URL + '/' + RID,
        [
            {'json': {'adoption': adoption()}},
            {'json': {'adoption': adoption('done')}},
        ],
    )
    result = run(
        'sodos', 'identity', 'project', 'adopt', 'legacy', '--site', 'paris',
        '--wait', '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert result.stderr.splitlines() == [
        'adoption of project legacy at site paris: pending',
        'adoption of project legacy at site paris: done (federation id %s)'
        % GID,
    ]
    assert result.json()['object_id'] == GID
    assert 'domain' not in api.request_history[0].json()['adoption']


def test_adopt_wait_fails_with_the_sites_reason(run, api):
    reason = (
        "project 'legacy' (domain default) at site paris: the site has no "
        'such project'
    )
    api.post(URL, status_code=201, json={'adoption': adoption()})
    api.get(
        URL + '/' + RID,
        json={'adoption': adoption('failed', reason=reason)},
    )
    result = run(
        'sodos', 'identity', 'project', 'adopt', 'legacy', '--site', 'paris',
        '--wait',
    )  # fmt: skip
    assert result.rc == 1
    assert 'adoption %s failed: %s' % (RID, reason) in result.stderr
    assert result.stdout == ''


def test_adopt_wait_times_out_with_the_last_state(run, api):
    api.post(URL, status_code=201, json={'adoption': adoption()})
    api.get(URL + '/' + RID, json={'adoption': adoption()})
    result = run(
        'sodos', 'identity', 'user', 'adopt', 'legacy', '--site', 'paris',
        '--wait', '--timeout', '0.05',
    )  # fmt: skip
    assert result.rc == 1
    assert 'timed out after 0.05 s' in result.stderr
    assert 'at site paris: pending)' in result.stderr


def test_a_refused_request_shows_the_api_message(run, api):
    api.post(
        URL,
        **fakes.error(
            409,
            'conflict',
            'project admin is protected ([identity]protected_projects)',
        ),
    )
    result = run(
        'sodos', 'identity', 'project', 'adopt', 'admin', '--site', 'paris',
        '--wait',
    )  # fmt: skip
    assert result.rc == 1
    assert 'project admin is protected' in result.stderr
    assert api.call_count == 1


def test_adoption_list_filters(run, api):
    api.get(
        URL,
        json={
            'adoptions': [
                adoption('failed', reason='no such project'),
                adoption('done', id='c' * 32),
            ]
        },
    )
    result = run(
        'sodos', 'identity', 'adoption', 'list', '--site', 'paris',
        '--state', 'failed', '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.qs == {'site': ['paris'], 'state': ['failed']}
    rows = result.json()
    assert [r['ID'] for r in rows] == [RID, 'c' * 32]
    assert rows[0]['Reason'] == 'no such project'
    assert rows[1]['Object ID'] == GID


def test_adoption_show(run, api):
    api.get(URL + '/' + RID, json={'adoption': adoption('done')})
    result = run('sodos', 'identity', 'adoption', 'show', RID)
    assert result.rc == 0, result.stderr
    assert GID in result.stdout and 'p-1' in result.stdout
    # Times for people.
    assert '2025-11-25T15:36:43+00:00' in result.stdout
