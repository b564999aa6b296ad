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

from sodos.kb.raft import membership

A, B, C, D, E = (f'10.0.0.{i}:7700' for i in range(1, 6))


def site(address, role='readonly', status='up', joined=0.0):
    return {
        'address': address,
        'role': role,
        'status': status,
        'joined_at': joined,
    }


def view(
    voters,
    connected=None,
    sites=None,
    heard=None,
    lag=None,
    disconnected_for=None,
    voter_count=3,
    leader=A,
    avoid=(),
    stalled=(),
):
    voters = frozenset(voters)
    return membership.View(
        leader=leader,
        voters=voters,
        connected=frozenset(
            voters - {leader} if connected is None else connected
        ),
        disconnected_for=disconnected_for or {},
        sites=sites or {},
        heard=heard or {},
        lag=lag or {},
        voter_count=voter_count,
        replace_after=30.0,
        alive_within=2.0,
        avoid=frozenset(avoid),
        stalled=frozenset(stalled),
    )


def all_sites(voters=(A,)):
    names = dict(zip('abcde', (A, B, C, D, E), strict=True))
    return {
        n: site(a, role='voter' if a in voters else 'readonly', joined=i)
        for i, (n, a) in enumerate(names.items())
    }


def test_nothing_to_do_when_voters_complete():
    sites = all_sites((A, B, C))
    assert membership.decide(view({A, B, C}, sites=sites)) is None


def test_records_a_voter_the_kb_does_not_know_of_first():
    sites = all_sites(())
    decision = membership.decide(view({A}, sites=sites))
    assert (decision.kind, decision.site) == ('record', 'a')


def test_promotes_the_oldest_live_caught_up_member():
    sites = all_sites((A,))
    heard = {'b': 0.1, 'c': 0.1, 'd': 0.1, 'e': 0.1}
    lag = {'b': 5000, 'c': 3, 'd': 0, 'e': 0}
    decision = membership.decide(view({A}, sites=sites, heard=heard, lag=lag))
    assert (decision.kind, decision.site, decision.address) == ('add', 'c', C)


def test_a_candidate_that_failed_lately_goes_to_the_back_of_the_line():
    sites = all_sites((A,))
    heard = {'b': 0.1, 'c': 0.1}
    lag = {'b': 0, 'c': 0}
    decision = membership.decide(
        view({A}, sites=sites, heard=heard, lag=lag, avoid={'b'})
    )
    assert decision.site == 'c'
    # Still tried when it is the only one.
    decision = membership.decide(
        view({A}, sites=sites, heard={'b': 0.1}, lag=lag, avoid={'b'})
    )
    assert (decision.kind, decision.site) == ('add', 'b')


def test_does_not_promote_a_silent_or_down_member():
    sites = all_sites((A,))
    sites['b']['status'] = 'down'
    heard = {'b': 0.1, 'c': 9.0}
    assert (
        membership.decide(
            view({A}, sites=sites, heard=heard, lag={'b': 0, 'c': 0})
        )
        is None
    )


def test_does_not_grow_while_a_voter_is_missing():
    sites = all_sites((A, B))
    heard = {'c': 0.1}
    decision = membership.decide(
        view(
            {A, B},
            connected=set(),
            sites=sites,
            heard=heard,
            lag={'c': 0},
            disconnected_for={B: 3.0},
        )
    )
    assert decision is None


def test_replaces_a_voter_lost_longer_than_the_timeout():
    sites = all_sites((A, B, C))
    decision = membership.decide(
        view({A, B, C}, connected={B}, sites=sites, disconnected_for={C: 31.0})
    )
    assert (decision.kind, decision.site) == ('remove', 'c')
    assert 'unreachable' in decision.why


def test_keeps_a_voter_lost_shorter_than_the_timeout():
    sites = all_sites((A, B, C))
    assert (
        membership.decide(
            view(
                {A, B, C},
                connected={B},
                sites=sites,
                disconnected_for={C: 29.0},
            )
        )
        is None
    )


def test_never_changes_membership_without_a_quorum():
    sites = all_sites((A, B, C, D, E))
    lost = {B: 99.0, C: 99.0, D: 99.0}
    decision = membership.decide(
        view(
            {A, B, C, D, E},
            connected={E},
            sites=sites,
            disconnected_for=lost,
            voter_count=5,
        )
    )
    assert decision is None


def test_removes_a_leaving_voter_and_hands_over_leadership():
    sites = all_sites((A, B, C))
    sites['b']['status'] = 'left'
    decision = membership.decide(view({A, B, C}, sites=sites))
    assert (decision.kind, decision.site) == ('remove', 'b')
    sites['b']['status'] = 'up'
    sites['a']['status'] = 'left'
    decision = membership.decide(view({A, B, C}, sites=sites))
    assert (decision.kind, decision.site) == ('transfer', 'a')


def test_shrinks_to_the_wanted_count_sparing_the_leader():
    sites = all_sites((A, B, C, D, E))
    decision = membership.decide(
        view({A, B, C, D, E}, sites=sites, voter_count=3)
    )
    assert decision.kind == 'remove'
    assert decision.address != A


def test_replaces_a_connected_voter_that_applies_nothing():
    sites = all_sites((A, B, C))
    decision = membership.decide(view({A, B, C}, sites=sites, stalled={C}))
    assert (decision.kind, decision.site) == ('remove', 'c')
    assert 'stuck' in decision.why


def test_keeps_a_stuck_voter_while_removing_it_loses_the_quorum():
    sites = all_sites((A, B, C))
    # B is gone and C is stuck: without C, A alone is no quorum of three.
    assert (
        membership.decide(
            view(
                {A, B, C},
                connected={C},
                sites=sites,
                stalled={C},
                disconnected_for={B: 5.0},
            )
        )
        is None
    )


def in_regions(sites, **regions):
    for name, region in regions.items():
        sites[name]['info'] = {'profile': {'region': region}}
    return sites


def test_promotes_a_member_of_a_region_without_a_voter():
    # Join order alone would make b the next voter.
    sites = in_regions(all_sites((A, B)), a='eu', b='eu', c='eu', d='us')
    heard = {'b': 0.1, 'c': 0.1, 'd': 0.1}
    lag = {'b': 0, 'c': 0, 'd': 0}
    decision = membership.decide(
        view({A, B}, sites=sites, heard=heard, lag=lag)
    )
    assert (decision.kind, decision.site) == ('add', 'd')
    assert decision.why == 'region us holds no voter; 2 voters of 3 wanted'


def test_swaps_a_voter_out_of_a_region_that_takes_the_quorum():
    sites = in_regions(all_sites((A, B, C)), a='eu', b='eu', c='us', d='ap')
    heard = {'d': 0.1}
    decision = membership.decide(
        view({A, B, C}, sites=sites, heard=heard, lag={'d': 0})
    )
    assert (decision.kind, decision.site) == ('add', 'd')
    # The add committed: the voter of the crowded region that does not
    # lead steps down.
    sites['d']['role'] = 'voter'
    decision = membership.decide(
        view({A, B, C, D}, sites=sites, heard=heard, lag={'d': 0})
    )
    assert (decision.kind, decision.site) == ('remove', 'b')
    assert decision.why == '4 voters of 3 wanted; region eu holds 2'


def test_no_swap_while_a_voter_is_missing():
    sites = in_regions(all_sites((A, B, C)), a='eu', b='eu', c='us', d='ap')
    decision = membership.decide(
        view(
            {A, B, C},
            connected={C},
            sites=sites,
            heard={'d': 0.1},
            lag={'d': 0},
            disconnected_for={B: 1.0},
        )
    )
    assert decision is None


def test_shrinking_removes_a_disconnected_voter_first():
    sites = in_regions(all_sites((A, B, C, D)), a='eu', b='us', c='us', d='ap')
    decision = membership.decide(
        view({A, B, C, D}, connected={B, C}, sites=sites)
    )
    assert (decision.kind, decision.site) == ('remove', 'd')
    assert decision.why == '4 voters of 3 wanted; it is not connected'


def test_no_swap_for_a_member_whose_promotion_failed_lately():
    sites = in_regions(all_sites((A, B, C)), a='eu', b='eu', c='us', d='ap')
    heard = {'d': 0.1}
    decision = membership.decide(
        view({A, B, C}, sites=sites, heard=heard, lag={'d': 0}, avoid={'d'})
    )
    assert decision is None
