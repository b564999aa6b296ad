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

import prometheus_client

from sodos.knowmon import liveness


def sites(**statuses):
    return {name: {'status': status} for name, status in statuses.items()}


def test_silent_site_goes_down_once():
    found = liveness.transitions(
        sites(a='up', b='up'), {'a': 0.1, 'b': 2.5}, 1.5, 'a'
    )
    assert found == [
        liveness.Transition('b', 'down', 'not heard of for 2.5 s')
    ]
    again = liveness.transitions(
        sites(a='up', b='down'), {'a': 0.1, 'b': 3.5}, 1.5, 'a'
    )
    assert again == []


def test_down_site_heard_again_comes_up():
    found = liveness.transitions(
        sites(a='up', b='down'), {'a': 0.0, 'b': 0.2}, 1.5, 'a'
    )
    assert found == [liveness.Transition('b', 'up', 'heard of again')]


def test_left_and_unknown_sites_are_ignored():
    found = liveness.transitions(
        sites(a='up', b='left', c='up'), {'a': 0.0, 'b': 99.0}, 1.5, 'a'
    )
    assert found == []


def test_the_leader_is_always_up():
    assert liveness.transitions(sites(a='up'), {'a': 99.0}, 1.5, 'a') == []


def detections():
    return (
        prometheus_client.REGISTRY.get_sample_value(
            'sodos_failure_detection_duration_seconds_count'
        ),
        prometheus_client.REGISTRY.get_sample_value(
            'sodos_failure_detection_duration_seconds_sum'
        ),
    )


def test_the_leader_times_the_detection_it_commits(knowmon, monkeypatch):
    backend = knowmon.backend
    backend.propose('site.register', {'site': 'far', 'address': 'f:1'})
    monkeypatch.setattr(backend, 'liveness', lambda: {'here': 0.0, 'far': 99})
    count, total = detections()
    line = knowmon.cycle()
    assert 'marked far down' in line
    assert detections() == (count + 1, total + 99)
    knowmon.cycle()  # already down: nothing more to time
    assert detections() == (count + 1, total + 99)


def test_gossip_marks_down_only_what_it_confirmed_dead():
    view = {
        'a': ('alive', 7),
        'b': ('suspect', 3),
        'c': ('dead', 3),
        'd': ('dead', 3),
        # Never heard on the gossip (a client member): not judged.
        'e': ('dead', 0),
    }
    found = liveness.gossip_transitions(
        sites(a='up', b='up', c='up', d='down', e='up'), view, 'a'
    )
    assert found == [
        liveness.Transition('c', 'down', 'confirmed dead by the gossip')
    ]


def test_gossip_marks_up_only_a_member_that_spoke():
    # A leader that just started holds every member alive at 0: that is
    # no news of a site that is down.
    fresh = {'a': ('alive', 1), 'b': ('alive', 0), 'c': ('alive', 12)}
    found = liveness.gossip_transitions(
        sites(a='up', b='down', c='down', e='down'), fresh, 'a'
    )
    assert found == [liveness.Transition('c', 'up', 'alive in the gossip')]


def test_gossip_never_marks_the_leader_or_a_site_that_left():
    view = {'a': ('dead', 1), 'b': ('dead', 1)}
    assert (
        liveness.gossip_transitions(sites(a='up', b='left'), view, 'a') == []
    )


def test_the_leaders_own_site_marked_down_by_an_earlier_leader_is_marked_up():
    # Restarted, then elected before the old verdict on it was undone:
    # no one else would mark it up while it leads.
    view = {'a': ('dead', 3), 'b': ('alive', 1)}
    assert liveness.gossip_transitions(sites(a='down', b='up'), view, 'a') == [
        liveness.Transition('a', 'up', 'leads the federation')
    ]
    # The heartbeat detector too, whether or not it heard itself.
    assert liveness.transitions(sites(a='down'), {}, 15.0, 'a') == [
        liveness.Transition('a', 'up', 'heard of again')
    ]
    # Absent from its own view, too.
    assert liveness.gossip_transitions(sites(a='down'), {}, 'a') == [
        liveness.Transition('a', 'up', 'leads the federation')
    ]


def test_the_incarnations_sites_registered_are_read_from_their_info():
    found = sites(a='up', b='down', c='left', d='up', e='up', f='up')
    found['a']['info'] = {'incarnation': 1700000000123}
    found['b']['info'] = {'incarnation': 42}
    found['c']['info'] = {'incarnation': 7}
    # Older code says none; nonsense is not taken for one.
    found['e']['info'] = {'incarnation': True}
    found['f']['info'] = {'incarnation': '9'}
    assert liveness.registered_incarnations(found) == {
        'a': 1700000000123,
        'b': 42,
    }
