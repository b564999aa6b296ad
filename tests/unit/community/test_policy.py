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

"""Every rule of an owner's sharing policy, as pure functions."""

import math

import pytest

from sodos.domain import community

POLICY = community.DEFAULT_POLICY


def test_a_change_is_merged_over_the_defaults():
    found = community.merged(None, {'lend_share_pct': 40})
    assert found == dict(POLICY, lend_share_pct=40)
    # The defaults themselves are not touched.
    assert community.DEFAULT_POLICY['lend_share_pct'] == 100


def test_a_change_is_merged_over_the_current_policy():
    current = community.merged(None, {'admit_owners': ['b']})
    found = community.merged(current, {'preemptible': True})
    assert found['admit_owners'] == ['b']
    assert found['preemptible'] is True


@pytest.mark.parametrize(
    'changes, field',
    [
        ({'lend_share_pct': 101}, 'policy.lend_share_pct'),
        ({'lend_share_pct': -1}, 'policy.lend_share_pct'),
        ({'lend_share_pct': '50'}, 'policy.lend_share_pct'),
        ({'lend_vcpus': -2}, 'policy.lend_vcpus'),
        ({'lend_vcpus': 1.5}, 'policy.lend_vcpus'),
        ({'lend_ram_mb': math.inf}, 'policy.lend_ram_mb'),
        ({'preempt_notice_s': 8 * 86400}, 'policy.preempt_notice_s'),
        ({'weight': 0}, 'policy.weight'),
        ({'admit_owners': ['bad name']}, 'policy.admit_owners[0]'),
        ({'admit_owners': ['b', 'b']}, 'policy.admit_owners'),
        ({'admit_projects': 'p1'}, 'policy.admit_projects'),
        ({'colour': 'red'}, 'policy'),
    ],
)
def test_bad_fields_are_named(changes, field):
    with pytest.raises(community.InvalidPolicy) as info:
        community.merged(None, changes)
    assert str(info.value).startswith(field + ' ')


def test_an_unknown_owner_is_named():
    policy = community.merged(None, {'admit_owners': ['b', 'zz']})
    with pytest.raises(community.InvalidPolicy) as info:
        community.check_names(policy, 'a', {'a', 'b'})
    assert "policy.admit_owners: unknown owner 'zz'" in str(info.value)


def test_the_owner_itself_is_not_listed():
    policy = community.merged(None, {'admit_owners': ['a']})
    with pytest.raises(community.InvalidPolicy, match='owner itself'):
        community.check_names(policy, 'a', {'a', 'b'})


def test_known_owners_are_sites_owners_and_domains():
    sites = {
        's1': {'status': 'up', 'info': {'profile': {'owner': 'a'}}},
        's2': {'status': 'left', 'info': {'profile': {'owner': 'gone'}}},
        's3': {'status': 'up', 'info': {'profile': {}}},
    }
    identity = {'domains': {'d' * 32: {'name': 'org'}}}
    assert community.known_owners(sites, identity) == {'a', 'd' * 32}


@pytest.mark.parametrize(
    'changes, host, guest, project, expected',
    [
        ({}, 'a', 'b', 'p', True),
        ({'admit_owners': []}, 'a', 'b', 'p', False),
        ({'admit_owners': []}, 'a', 'a', 'p', True),
        ({'admit_owners': ['c']}, 'a', 'b', 'p', False),
        ({'admit_owners': ['b']}, 'a', 'b', 'p', True),
        ({'admit_owners': [], 'admit_projects': ['p']}, 'a', 'b', 'p', True),
        ({'admit_owners': [], 'admit_projects': ['q']}, 'a', 'b', 'p', False),
        # A project of no owner goes only where everyone is admitted.
        ({}, 'a', '', None, True),
        ({'admit_owners': ['b']}, 'a', '', None, False),
    ],
)
def test_admits(changes, host, guest, project, expected):
    policy = community.merged(None, changes)
    assert community.admits(policy, host, guest, project) is expected


@pytest.mark.parametrize(
    'changes, expected',
    [
        ({}, (64.0, 256000.0)),
        ({'lend_share_pct': 25}, (16.0, 64000.0)),
        ({'lend_vcpus': 10}, (10.0, 256000.0)),
        ({'lend_share_pct': 50, 'lend_ram_mb': 200000}, (32.0, 128000.0)),
        ({'lend_share_pct': 0}, (0.0, 0.0)),
    ],
)
def test_lent_is_the_share_capped_by_the_limits(changes, expected):
    policy = community.merged(None, changes)
    assert community.lent(policy, 64, 256000) == expected


def test_project_owner_is_its_domain():
    identity = {'projects': {'p' * 32: {'domain_id': 'd' * 32}}}
    assert community.project_owner(identity, 'p' * 32) == 'd' * 32
    assert community.project_owner(identity, 'q' * 32) == ''
    assert community.project_owner(identity, None) == ''


def test_site_owner_and_policy_of():
    assert community.site_owner({'info': {'profile': {'owner': 'a'}}}) == 'a'
    assert community.site_owner({'info': {}}) is None
    owners = {'a': {'policy': {'lend_share_pct': 10}}}
    assert community.policy_of(owners, 'a')['lend_share_pct'] == 10
    assert community.policy_of(owners, 'b') == POLICY
