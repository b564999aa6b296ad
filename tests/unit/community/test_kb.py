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

"""The owners' KB command and the owner a site publishes when it joins."""

import math

import pytest

from sodos import exception
from sodos.conf import site_profile
from sodos.kb import state
from tests.unit.kb.test_state import cmd


def register(kb, site, owner=None, ts=100.0):
    profile = {'owner': owner} if owner else {}
    return kb.apply(
        cmd(
            'site.register',
            {
                'site': site,
                'address': '%s:1' % site,
                'info': {'profile': profile},
            },
            ts=ts,
            origin=site,
        )
    )


@pytest.fixture
def kb():
    kb = state.KnowledgeState()
    register(kb, 's1', 'a')
    register(kb, 's2', 'b')
    register(kb, 's3')
    return kb


def set_policy(kb, owner, policy=None, unset=None, ts=200.0):
    args = {'owner': owner}
    if policy is not None:
        args['policy'] = policy
    if unset is not None:
        args['unset'] = unset
    return kb.apply(cmd('owner.policy', args, ts=ts))


def test_a_policy_is_stored_as_set(kb):
    result = set_policy(kb, 'a', {'admit_owners': ['b'], 'lend_share_pct': 60})
    assert result['ok'], result
    assert kb.read('owners') == {
        'a': {
            'policy': {'admit_owners': ['b'], 'lend_share_pct': 60},
            'updated_at': 200.0,
            'updated_by': 'a',
        }
    }


def test_changes_accumulate_and_unset_takes_back(kb):
    set_policy(kb, 'a', {'lend_share_pct': 60})
    set_policy(kb, 'a', {'preemptible': True}, ts=300.0)
    assert kb.read('owners')['a']['policy'] == {
        'lend_share_pct': 60,
        'preemptible': True,
    }
    set_policy(kb, 'a', unset=['lend_share_pct'], ts=400.0)
    assert kb.read('owners')['a']['policy'] == {'preemptible': True}


@pytest.mark.parametrize(
    'owner, policy, error',
    [
        ('zz', {'lend_share_pct': 10}, "owner: unknown owner 'zz'"),
        ('a', {'admit_owners': ['zz']}, "admit_owners: unknown owner 'zz'"),
        ('a', {'admit_owners': ['a']}, 'owner itself'),
        ('a', {'lend_share_pct': 150}, 'lend_share_pct'),
    ],
)
def test_bad_policies_change_nothing(kb, owner, policy, error):
    set_policy(kb, 'a', {'lend_share_pct': 60})
    before = kb.read()
    if 'lend_share_pct' in error:
        # The schema refuses it before it could be proposed.
        with pytest.raises(exception.InvalidCommand, match=error):
            set_policy(kb, owner, policy)
    else:
        result = set_policy(kb, owner, policy)
        assert not result['ok']
        assert error in result['error']
    assert kb.read() == before


def test_a_domain_of_the_identity_is_a_known_owner(kb):
    domain = 'd' * 32
    assert kb.apply(
        cmd('identity.domain.put', {'domain_id': domain, 'name': 'org'})
    )['ok']
    assert set_policy(kb, domain, {'admit_owners': ['a']})['ok']


def test_the_owner_a_site_publishes(conf):
    assert 'owner' not in site_profile.profile(conf)
    conf.set_override('owner', 'org-a', 'site_profile')
    assert site_profile.profile(conf)['owner'] == 'org-a'


def test_a_bad_owner_in_the_config_is_refused(conf):
    with pytest.raises(ValueError):
        conf.set_override('owner', 'bad owner', 'site_profile')


def test_an_operator_may_override_a_sites_owner(kb):
    assert kb.apply(
        cmd('site.profile', {'site': 's3', 'profile': {'owner': 'c'}})
    )['ok']
    assert kb.read('sites')['s3']['info']['profile']['owner'] == 'c'


def test_a_policy_with_nan_never_enters_the_kb(knowmon):
    backend = knowmon.backend
    backend.propose(
        'site.profile', {'site': 'here', 'profile': {'owner': 'org'}}
    )
    before = backend.read()
    with pytest.raises(exception.InvalidCommand) as info:
        backend.propose(
            'owner.policy',
            {'owner': 'org', 'policy': {'weight': math.nan}},
        )
    assert 'NaN' in str(info.value)
    with pytest.raises(exception.InvalidCommand):
        backend.propose(
            'owner.policy',
            {'owner': 'org', 'policy': {'admit_projects': ['\ud800']}},
        )
    assert backend.read() == before
