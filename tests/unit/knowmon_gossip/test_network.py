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


"""The protocol on a simulated network: detection, refutation, indirect
probes, partitions and restarts, with loss decided by a seeded generator."""

import pytest

from sodos.knowmon.gossip import swim
from tests.unit.knowmon_gossip import netsim


@pytest.mark.parametrize('seed', [1, 2, 3])
def test_killed_member_is_confirmed_dead_by_every_live_member(seed):
    net = netsim.Network(netsim.names(12), seed=seed)
    net.run(5)
    victim = 'site-07'
    net.kill(victim)
    net.run(60)
    for observer in net.live():
        assert net.state(observer, victim) == swim.DEAD, observer
    # Nobody alive was ever taken for dead on the way.
    assert {m for (_, m) in net.ever_dead} == {victim}


def test_every_member_learns_of_a_regional_outage():
    net = netsim.Network(netsim.names(20), seed=4)
    net.run(5)
    region = {'site-03', 'site-04', 'site-05', 'site-06', 'site-11'}
    for name in region:
        net.kill(name)
    net.run(90)
    for observer in net.live():
        assert net.nodes[observer].dead() == region, observer
    assert {m for (_, m) in net.ever_dead} == region


@pytest.mark.parametrize('seed', [5, 6])
def test_lossy_member_refutes_and_is_never_confirmed_dead(seed):
    net = netsim.Network(netsim.names(10), seed=seed)
    slow = 'site-02'
    net.member_loss[slow] = 0.3
    net.run(180)
    # It was suspected (the loss bites) and answered each time with a
    # higher incarnation, before anyone confirmed it dead.
    assert any(member == slow for (_, member) in net.ever_suspect)
    assert net.nodes[slow].incarnation > 0
    assert net.ever_dead == {}


def test_member_unreachable_directly_is_probed_through_others():
    net = netsim.Network(netsim.names(8), seed=7)
    net.cut.add(frozenset(('site-00', 'site-05')))
    net.run(120)
    # site-00 probes site-05 every round and never hears back directly;
    # the others' indirect probes answer for it each time.
    assert net.ever_suspect == set()
    assert net.nodes['site-05'].incarnation == 0


def test_partitioned_minority_never_gets_a_majority_member_declared_dead():
    names = netsim.names(9)
    majority, minority = set(names[:6]), set(names[6:])
    net = netsim.Network(names, seed=9)
    net.run(5)
    net.partition(majority, minority)
    net.run(60)
    # Each side confirms the other dead: neither can reach it.
    for observer in majority:
        assert net.nodes[observer].dead() == minority
    for observer in minority:
        assert net.nodes[observer].dead() == majority
    net.heal()
    net.run(90)
    # The minority's verdicts never reached the majority about its own
    # members, during the partition or after it healed.
    assert not [
        (o, m) for (o, m) in net.ever_dead if o in majority and m in majority
    ]
    # And once healed, everyone refuted and everyone is alive again.
    for observer in names:
        assert net.nodes[observer].dead() == set(), observer


def dead_for_a_minute(seed):
    """Eight members, site-03 killed and held dead by the others."""
    net = netsim.Network(netsim.names(8), seed=seed)
    net.run(5)
    net.kill('site-03')
    net.run(60)
    return net


def test_restarted_member_comes_back_with_a_higher_incarnation():
    net = dead_for_a_minute(10)
    assert all(net.state(o, 'site-03') == swim.DEAD for o in net.live())
    net.restart('site-03', incarnation=1000)
    net.run(60)
    for observer in net.live():
        state, inc = net.nodes[observer].view()['site-03']
        assert (state, inc) == (swim.ALIVE, 1000), observer


def test_a_member_vouched_for_that_died_again_is_found_dead_there():
    # It registered in the KB at a new incarnation, then died before it
    # gossiped: the vouch spreads, and the members find it dead again at
    # that incarnation, not at its old one.
    net = dead_for_a_minute(13)
    assert net.nodes['site-00'].vouch({'site-03': 1000}, net.now) == [
        'site-03'
    ]
    assert net.nodes['site-00'].view()['site-03'] == (swim.ALIVE, 1000)
    net.run(60)
    for observer in net.live():
        state, inc = net.nodes[observer].view()['site-03']
        assert (state, inc) == (swim.DEAD, 1000), observer


def test_a_member_vouched_for_before_it_gossips_is_never_taken_for_dead():
    # Restarted at 1000 and heard of through the KB first: the old
    # verdict is stale at once, and its new process is never doubted.
    net = dead_for_a_minute(14)
    net.nodes['site-00'].vouch({'site-03': 1000}, net.now)
    net.restart('site-03', incarnation=1000)
    for _ in range(int(60 / netsim.STEP)):
        net.step()
        for observer in net.live():
            if observer != 'site-03':
                state, inc = net.nodes[observer].view()['site-03']
                assert state == swim.ALIVE or inc < 1000, observer
    for observer in net.live():
        if observer != 'site-03':
            assert net.nodes[observer].view()['site-03'] == (
                swim.ALIVE,
                1000,
            )


def test_updates_are_sent_a_bounded_number_of_times():
    net = netsim.Network(netsim.names(12), seed=11)
    net.run(5)
    net.kill('site-04')
    net.run(60)
    assert net.biggest_piggyback <= net.params.max_piggyback
    # Nothing changed for long: every queue has drained.
    assert [net.nodes[n].backlog() for n in net.live()] == [0] * 11


def test_quiet_network_raises_no_suspicion():
    net = netsim.Network(netsim.names(15), seed=12)
    net.run(120)
    assert net.ever_suspect == set()
    assert all(net.nodes[n].incarnation == 0 for n in net.names)


def test_a_member_not_due_has_nothing_to_do_and_is_seldom_ticked():
    """Between its deadlines a member's tick sends nothing and changes
    nothing, through probes, indirect probes, suspicions, refutations
    and a death: the endpoint sleeps until then instead of ticking at a
    fixed pace."""
    net = netsim.Network(netsim.names(6), seed=3)
    net.check_not_due = True
    net.member_loss['site-02'] = 0.3
    net.run(5)
    net.kill('site-04')
    net.run(25)
    assert {m for (_, m) in net.ever_dead} == {'site-04'}
    assert any(m == 'site-02' for (_, m) in net.ever_suspect)
    # Far fewer ticks than steps: members wake when something is due.
    steps = round(30 / netsim.STEP)
    assert net.ticks < steps * len(net.live()) / 3
