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

"""usage list and usage show against what /v1/usage would answer."""

import pytest
from cliff import commandmanager

from sodos.osc.v1 import usage
from tests.unit.osc import conftest as fakes

URL = fakes.URL
COMMANDS = {
    'sodos usage list': usage.ListUsage,
    'sodos usage show': usage.ShowUsage,
}


def row(**fields):
    return dict(fields, vcpu_hours=2.5, ram_gb_hours=5.0, member_hours=1.25)


@pytest.fixture(autouse=True)
def usage_commands(monkeypatch):
    load = commandmanager.CommandManager.load_commands

    def loading(self, namespace):
        load(self, namespace)
        for name, cls in COMMANDS.items():
            self.add_command(name, cls)

    monkeypatch.setattr(
        commandmanager.CommandManager, 'load_commands', loading
    )


def test_list_sends_the_filters_and_shows_the_groups(run, api):
    asked = api.get(
        URL + '/usage',
        json={
            'usage': [row(owner='orga', project='p1', site='paris')],
            'by': ['owner', 'project', 'site'],
            'filters': {'owner': 'orga'},
            'start': 1796083200.0,
            'end': None,
        },
    )
    result = run(
        'sodos', 'usage', 'list', '--owner', 'orga',
        '--start', '2026-12-01', '--site', 'paris', '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert asked.last_request.qs == {
        'owner': ['orga'],
        'start': ['2026-12-01'],
        'site': ['paris'],
        'by': ['owner,project,site'],
    }
    assert result.json() == [
        {
            'Owner': 'orga',
            'Project': 'p1',
            'Site': 'paris',
            'Vcpu Hours': 2.5,
            'Ram Gb Hours': 5.0,
            'Member Hours': 1.25,
        }
    ]


def test_list_by_hour_shows_the_hour_as_a_time(run, api):
    api.get(
        URL + '/usage',
        json={'usage': [row(hour=1796083200.0)], 'by': ['hour']},
    )
    result = run('sodos', 'usage', 'list', '--by', 'hour', '-f', 'json')
    assert result.rc == 0, result.stderr
    assert result.json()[0]['Hour'] == '2026-12-01T00:00:00+00:00'


def test_show_sums_the_owners_sites(run, api):
    asked = api.get(
        URL + '/usage',
        json={
            'usage': [row(site='lyon'), row(site='paris')],
            'by': ['site'],
            'start': None,
            'end': 1796083200.0,
        },
    )
    result = run(
        'sodos', 'usage', 'show', 'orga', '--end', '1796083200', '-f', 'json'
    )
    assert result.rc == 0, result.stderr
    assert asked.last_request.qs == {
        'owner': ['orga'],
        'end': ['1796083200'],
        'by': ['site'],
    }
    found = result.json()
    assert found['owner'] == 'orga'
    assert found['vcpu_hours'] == 5.0
    assert found['member_hours'] == 2.5
    assert found['end'] == '2026-12-01T00:00:00+00:00'
    assert [s['site'] for s in found['sites']] == ['lyon', 'paris']


def test_a_bad_period_is_the_apis_error_naming_the_field(run, api):
    api.get(
        URL + '/usage',
        status_code=400,
        json={
            'error': {
                'code': 'invalid_query',
                'message': "start: 'soon' is not a time (ISO 8601 ...)",
                'request_id': fakes.REQUEST_ID,
            }
        },
    )
    result = run('sodos', 'usage', 'list', '--start', 'soon')
    assert result.rc == 1
    assert "start: 'soon' is not a time" in result.stderr
