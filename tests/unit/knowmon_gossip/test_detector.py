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


import types

import pytest

from sodos import exception
from sodos.knowmon import role as knowmon_role
from sodos.knowmon.gossip import detector


def test_gossip_addresses_are_raft_addresses_shifted_by_the_offset():
    sites = {
        'a': {'address': '10.0.0.1:9000', 'status': 'up'},
        'b': {'address': '[fd00::2]:9000', 'status': 'down'},
        'c': {'address': '10.0.0.3:9000', 'status': 'left'},
        'd': {'address': 'no port', 'status': 'up'},
        'e': {'address': '10.0.0.5:65534', 'status': 'up'},
    }
    assert detector.addresses(sites, 2) == {
        'a': ('10.0.0.1', 9002),
        'b': ('fd00::2', 9002),
    }


def test_probe_timeout_above_the_interval_is_a_config_error(conf):
    conf.set_override('gossip_probe_timeout', 0.6, 'knowmon')
    with pytest.raises(exception.ConfigError, match='gossip_probe_timeout'):
        detector.params_from(conf)


def test_gossip_needs_the_raft_backend(conf):
    conf.set_override('failure_detector', 'gossip', 'knowmon')
    with pytest.raises(exception.ConfigError, match='state_backend = raft'):
        knowmon_role.KnowMonRole(conf)


def test_heartbeat_detector_makes_no_gossip_endpoint(conf):
    assert conf.knowmon.failure_detector == 'heartbeat'
    assert knowmon_role.KnowMonRole(conf).gossip is None


class Member:
    """The KB member as the role's gossip callback sees it."""

    def __init__(self, leader_site, is_leader=False):
        self.leader_site = leader_site
        self.is_leader = is_leader
        self.told = []

    def status(self):
        return types.SimpleNamespace(
            leader_site=self.leader_site, is_leader=self.is_leader
        )

    def leader_confirmed_dead(self, site):
        self.told.append(site)
        return True


def gossip_role(member, stand=True):
    """The role as its gossip callback uses it: counts its wake-ups."""
    role = types.SimpleNamespace(
        backend=member, _stand_when_leader_dies=stand, woken=0
    )

    def wake():
        role.woken += 1

    role.loop = types.SimpleNamespace(wake=wake)
    return role


def test_only_the_leaders_death_is_told_to_the_kb_member():
    role = gossip_role(Member('site-a'))
    knowmon_role.KnowMonRole._gossip_dead(role, {'site-b'})
    assert role.backend.told == []
    knowmon_role.KnowMonRole._gossip_dead(role, {'site-b', 'site-a'})
    assert role.backend.told == ['site-a']
    assert role.woken == 0


def test_a_follower_does_not_stand_unless_asked_for():
    role = gossip_role(Member('site-a'), stand=False)
    knowmon_role.KnowMonRole._gossip_dead(role, {'site-a'})
    assert role.backend.told == []
    assert role.woken == 0


def test_the_leader_runs_its_cycle_at_once_on_a_death():
    # It marks the site down now, not at the end of its loop interval.
    role = gossip_role(Member('site-a', is_leader=True), stand=False)
    knowmon_role.KnowMonRole._gossip_dead(role, {'site-b'})
    assert role.woken == 1
    assert role.backend.told == []


def test_the_gossip_tells_the_role_of_deaths_with_the_option_off(
    conf, monkeypatch
):
    # The leader needs the news whether or not voters stand on it.
    conf.set_override('failure_detector', 'gossip', 'knowmon')
    assert not conf.knowmon.gossip_leader_election
    given = {}

    def endpoint(conf, backend, on_dead=None):
        given['on_dead'] = on_dead
        return object()

    monkeypatch.setattr(knowmon_role.gossip_detector, 'endpoint', endpoint)
    role = knowmon_role.KnowMonRole(conf)
    assert given['on_dead'] == role._gossip_dead
