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

"""The KB commands an operator makes through the API: alert.ack and
site.profile."""

import pytest

from sodos.kb import commands
from sodos.kb import state
from tests.unit.kb.test_state import ALERT
from tests.unit.kb.test_state import cmd

PUBLISHED = {
    'profile': {
        'region': 'r1',
        'labels': {'tier': 'gold'},
        'cost_per_vcpu_hour': 0.5,
        'pue': 1.5,
    }
}


def register(kb, ts=100.0, info=PUBLISHED):
    return kb.apply(
        cmd(
            'site.register',
            {'site': 'a', 'address': 'h:1', 'info': info},
            ts=ts,
        )
    )


@pytest.fixture
def kb():
    kb = state.KnowledgeState()
    register(kb)
    kb.apply(
        cmd(
            'alert.raise',
            {
                'alert_id': ALERT,
                'site': 'a',
                'kind': 'overload',
                'severity': 'warning',
                'message': 'hot',
            },
        )
    )
    return kb


def test_ack_records_who_and_when_and_keeps_the_alert_open(kb):
    result = kb.apply(
        cmd(
            'alert.ack',
            {'alert_id': ALERT, 'by': 'alice', 'comment': 'on it'},
            ts=120.0,
        )
    )
    assert result == {'ok': True, 'changed': True}
    alert = kb.read('alerts')[ALERT]
    assert alert['acknowledged_at'] == 120.0
    assert alert['acknowledged_by'] == 'alice'
    assert alert['comment'] == 'on it'
    # Whoever raised it still acts on it and closes it.
    assert alert['state'] == 'open'


def test_a_second_ack_changes_nothing(kb):
    kb.apply(cmd('alert.ack', {'alert_id': ALERT, 'by': 'alice'}, ts=120.0))
    before = kb.read()
    result = kb.apply(
        cmd('alert.ack', {'alert_id': ALERT, 'by': 'bob'}, ts=130.0)
    )
    assert result == {'ok': True, 'changed': False}
    assert kb.read() == before


def test_ack_of_an_unknown_alert_is_refused(kb):
    before = kb.read()
    result = kb.apply(cmd('alert.ack', {'alert_id': 'e' * 32, 'by': 'x'}))
    assert result == {'ok': False, 'error': 'no open alert ' + 'e' * 32}
    assert kb.read() == before


def test_ack_needs_who(kb):
    with pytest.raises(Exception, match='alert.ack.by'):
        commands.make('alert.ack', {'alert_id': ALERT, 'by': ''}, 'a')


def test_profile_overrides_merge_over_the_published_profile(kb):
    result = kb.apply(
        cmd(
            'site.profile',
            {'site': 'a', 'profile': {'region': 'eu', 'pue': 1.2}},
            ts=110.0,
        )
    )
    assert result == {'ok': True}
    site = kb.read('sites')['a']
    assert site['info']['profile'] == dict(
        PUBLISHED['profile'], region='eu', pue=1.2
    )
    assert site['profile_overrides'] == {'region': 'eu', 'pue': 1.2}


def test_profile_overrides_accumulate(kb):
    kb.apply(cmd('site.profile', {'site': 'a', 'profile': {'pue': 1.2}}))
    kb.apply(
        cmd('site.profile', {'site': 'a', 'profile': {'labels': {'x': 'y'}}})
    )
    profile = kb.read('sites')['a']['info']['profile']
    assert profile['pue'] == 1.2
    assert profile['labels'] == {'x': 'y'}


def test_profile_overrides_survive_the_next_register(kb):
    kb.apply(
        cmd(
            'site.profile',
            {'site': 'a', 'profile': {'cost_per_vcpu_hour': 2.0}},
        )
    )
    republished = {'profile': dict(PUBLISHED['profile'], region='r2')}
    assert register(kb, ts=200.0, info=republished)['ok'] is True
    profile = kb.read('sites')['a']['info']['profile']
    assert profile['cost_per_vcpu_hour'] == 2.0
    # What the site publishes and the operator did not override changes.
    assert profile['region'] == 'r2'


def test_register_without_overrides_keeps_info_as_published(kb):
    assert kb.read('sites')['a']['info'] == PUBLISHED


def test_profile_of_an_unknown_site_is_refused(kb):
    before = kb.read()
    result = kb.apply(
        cmd('site.profile', {'site': 'zz', 'profile': {'pue': 1.1}})
    )
    assert result == {'ok': False, 'error': "unknown site 'zz'"}
    assert kb.read() == before


@pytest.mark.parametrize(
    'profile, where',
    [
        ({}, 'site.profile.profile'),
        ({'pue': 0.5}, 'site.profile.profile.pue'),
        ({'color': 'red'}, 'site.profile.profile'),
        ({'location': 'north'}, 'site.profile.profile.location'),
    ],
)
def test_malformed_profiles_are_refused_by_the_proposer(profile, where):
    with pytest.raises(Exception, match=where.replace('.', r'\.')):
        commands.make('site.profile', {'site': 'a', 'profile': profile}, 'a')
