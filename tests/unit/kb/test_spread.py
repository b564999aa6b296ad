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

import itertools

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sodos.kb import failure_domains
from sodos.kb.raft import spread


def change(voters, candidates, wanted=3, leader='a'):
    found = spread.next_change(voters, candidates, wanted, leader)
    return None if found is None else (found.kind, found.key)


# -- the choice -----------------------------------------------------------


def test_grows_into_a_region_without_a_voter_first():
    voters = {'a': 'eu', 'b': 'eu'}
    candidates = [('c', 'eu'), ('d', 'us')]
    found = spread.next_change(voters, candidates, 3, 'a')
    assert (found.kind, found.key) == ('add', 'd')
    assert found.why.startswith('region us holds no voter')


def test_grows_by_the_candidates_order_when_regions_tie():
    voters = {'a': 'eu'}
    assert change(voters, [('c', 'us'), ('b', 'ap')]) == ('add', 'c')
    assert change(voters, [('b', 'ap'), ('c', 'us')]) == ('add', 'b')


def test_grows_where_voters_are_fewest_once_every_region_votes():
    voters = {'a': 'eu', 'b': 'eu', 'c': 'us'}
    candidates = [('d', 'eu'), ('e', 'us')]
    assert change(voters, candidates, wanted=4) == ('add', 'e')


def test_swaps_out_of_a_region_that_takes_the_quorum():
    # Join order made eu-1, eu-2 and us-1 voters; ap-1 came later.
    voters = {'eu-1': 'eu', 'eu-2': 'eu', 'us-1': 'us'}
    found = spread.next_change(voters, [('ap-1', 'ap')], 3, 'eu-1')
    assert (found.kind, found.key) == ('add', 'ap-1')
    assert 'region ap holds no voter' in found.why
    assert 'region eu holds 2 of 3 voters' in found.why
    # Then, with four voters, the one in the crowded region that does
    # not lead steps down.
    voters['ap-1'] = 'ap'
    found = spread.next_change(voters, [], 3, 'eu-1')
    assert (found.kind, found.key) == ('remove', 'eu-2')
    assert found.why == '4 voters of 3 wanted; region eu holds 2'


def test_the_leader_steps_down_last():
    voters = {'eu-1': 'eu', 'eu-2': 'eu', 'us-1': 'us', 'ap-1': 'ap'}
    assert change(voters, [], leader='eu-2') == ('remove', 'eu-1')
    # Even where removing it would spread as well as any other.
    voters = {'a': 'x', 'b': 'y', 'c': 'z', 'd': 'w'}
    assert change(voters, [], leader='a') == ('remove', 'b')


def test_no_churn_when_the_set_is_as_good_as_any():
    # Three regions for three voters: nothing to gain.
    voters = {'a': 'eu', 'b': 'us', 'c': 'ap'}
    assert change(voters, [('d', 'sa'), ('e', 'eu')]) is None
    # Two regions only: eu keeps two voters whatever is swapped.
    voters = {'a': 'eu', 'b': 'eu', 'c': 'us'}
    assert change(voters, [('d', 'us'), ('e', 'eu')]) is None


def test_no_swap_for_evenness_alone():
    # 9 voters over 3 regions, 4/4/1: no region takes the quorum and
    # every region votes; 3/3/3 would be more even, not safer.
    voters = {'e%d' % i: 'eu' for i in range(4)}
    voters.update({'u%d' % i: 'us' for i in range(4)})
    voters['p0'] = 'ap'
    candidates = [('p1', 'ap'), ('p2', 'ap')]
    assert spread.next_change(voters, candidates, 9, 'e0') is None


def test_swaps_step_by_step_out_of_a_large_majority():
    # 5 of 7 in eu: one swap leaves 4 (still the quorum), yet it is
    # the first step of the way.
    voters = {'e%d' % i: 'eu' for i in range(5)}
    voters.update({'u0': 'us', 'p0': 'ap'})
    candidates = [('u1', 'us'), ('p1', 'ap')]
    assert spread.next_change(voters, candidates, 7, 'e0').kind == 'add'


def test_nothing_without_candidates_below_the_count():
    assert change({'a': 'eu'}, []) is None


def test_an_unknown_region_is_a_domain_of_its_own():
    site = {'info': {'profile': {}}}
    assert failure_domains.region_of('site-7', site) == 'site-7'
    site = {'info': {'profile': {'region': 'eu-west'}}}
    assert failure_domains.region_of('site-7', site) == 'eu-west'


# -- what one region's outage takes ---------------------------------------


def test_quorum_taker():
    assert failure_domains.quorum_taker([]) is None
    assert failure_domains.quorum_taker(['eu']) == 'eu'
    assert failure_domains.quorum_taker(['eu', 'eu', 'us']) == 'eu'
    assert failure_domains.quorum_taker(['eu', 'us', 'ap']) is None
    # Half of an even count is enough to take the quorum.
    assert failure_domains.quorum_taker(['eu', 'eu', 'us', 'ap']) == 'eu'
    assert failure_domains.quorum_taker(['eu', 'eu', 'us', 'us', 'ap']) is None


def sites(**regions):
    return {
        name: {'status': 'up', 'info': {'profile': {'region': region}}}
        for name, region in regions.items()
    }


def test_summary_warns_of_fewer_regions_than_voters():
    found = failure_domains.summary(
        ['a', 'b', 'c'], sites(a='eu', b='eu', c='us', d='us')
    )
    assert found == {
        'voter_regions': {'eu': ['a', 'b'], 'us': ['c']},
        'regions': 2,
        'majority_region': 'eu',
        'warning': '3 voters but only 2 region(s): an outage of region eu '
        'takes the quorum with it',
    }


def test_summary_of_a_spread_federation_has_no_warning():
    found = failure_domains.summary(
        ['a', 'c', 'e'], sites(a='eu', b='eu', c='us', e='ap')
    )
    assert found['majority_region'] is None
    assert found['warning'] is None
    assert found['voter_regions'] == {'ap': ['e'], 'eu': ['a'], 'us': ['c']}


def test_summary_warns_while_voters_are_not_spread_yet():
    found = failure_domains.summary(
        ['a', 'b', 'c'], sites(a='eu', b='eu', c='us', e='ap')
    )
    assert (
        found['warning'] == 'an outage of region eu takes the quorum with it'
    )


def test_summary_ignores_sites_that_left_and_names_unknown_voters():
    known = sites(a='eu', b='us')
    known['b']['status'] = 'left'
    found = failure_domains.summary(['a', '10.0.0.9:7700'], known)
    assert found['regions'] == 1
    assert found['voter_regions'] == {
        '10.0.0.9:7700': ['10.0.0.9:7700'],
        'eu': ['a'],
    }


# -- properties -------------------------------------------------------------

REGIONS = ['r0', 'r1', 'r2', 'r3']


@st.composite
def federations(draw):
    """Members with regions, a leader, some voters, a wanted count."""
    size = draw(st.integers(1, 8))
    regions = draw(
        st.lists(st.sampled_from(REGIONS), min_size=size, max_size=size)
    )
    members = {'m%d' % i: r for i, r in enumerate(regions)}
    names = sorted(members)
    voters = draw(st.sets(st.sampled_from(names), min_size=1))
    leader = draw(st.sampled_from(sorted(voters)))
    wanted = draw(st.integers(1, 7))
    return members, {v: members[v] for v in voters}, leader, wanted


def best_possible(members, leader, size):
    """The best (a), (b) of any ``size`` members that include the leader."""
    others = sorted(set(members) - {leader})
    return max(
        spread.score([members[leader]] + [members[m] for m in chosen])[:2]
        for chosen in itertools.combinations(others, size - 1)
    )


def play(members, voters, leader, wanted):
    """Apply the changes until there is none; every voter set on the way."""
    voters = dict(voters)
    seen = [dict(voters)]
    for _ in range(4 * len(members) + 8):
        candidates = [
            (m, r) for m, r in sorted(members.items()) if m not in voters
        ]
        found = spread.next_change(voters, candidates, wanted, leader)
        if found is None:
            return voters, seen
        assert found.kind == ('add' if len(voters) <= wanted else 'remove')
        if found.kind == 'add':
            assert found.key not in voters
            voters[found.key] = members[found.key]
        else:
            assert found.key != leader
            del voters[found.key]
        seen.append(dict(voters))
    raise AssertionError('no fixed point: %s' % seen[-4:])


@settings(max_examples=300, deadline=None)
@given(federations())
def test_reaches_the_best_spread_and_stays(fed):
    members, voters, leader, wanted = fed
    final, _ = play(members, voters, leader, wanted)
    size = min(wanted, len(members)) if len(voters) <= wanted else wanted
    size = max(size, 1)
    assert len(final) == size
    assert leader in final
    assert spread.score(list(final.values()))[:2] == best_possible(
        members, leader, size
    )


@settings(max_examples=300, deadline=None)
@given(federations())
def test_never_falls_below_the_wanted_count_once_there(fed):
    members, voters, leader, wanted = fed
    _, seen = play(members, voters, leader, wanted)
    reached = False
    for step in seen:
        reached = reached or len(step) >= wanted
        if reached:
            assert len(step) >= wanted


@settings(max_examples=300, deadline=None)
@given(federations())
def test_same_input_same_change(fed):
    members, voters, leader, wanted = fed
    candidates = [
        (m, r) for m, r in sorted(members.items()) if m not in voters
    ]
    first = spread.next_change(voters, candidates, wanted, leader)
    again = spread.next_change(
        dict(reversed(list(voters.items()))), candidates, wanted, leader
    )
    assert first == again


@settings(max_examples=300, deadline=None)
@given(federations())
def test_no_change_to_a_set_as_good_as_any(fed):
    members, voters, leader, wanted = fed
    if len(voters) != wanted:
        return
    if spread.score(list(voters.values()))[:2] != best_possible(
        members, leader, wanted
    ):
        return
    candidates = [
        (m, r) for m, r in sorted(members.items()) if m not in voters
    ]
    assert spread.next_change(voters, candidates, wanted, leader) is None


def test_summary_of_one_voter():
    # Alone in the only region: nothing else could vote.
    found = failure_domains.summary(['a'], sites(a='eu'))
    assert (found['majority_region'], found['warning']) == ('eu', None)
    found = failure_domains.summary(['a'], sites(a='eu', b='us'))
    assert found['warning'] == (
        'an outage of region eu takes the quorum with it'
    )
