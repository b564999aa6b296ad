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


"""Lifeguard's additions, one member fed crafted messages on simulated
time: nacks from the helpers of an indirect probe, the member's own health
score and what it stretches, the gossip pushes, stale probes."""

import pytest

from sodos.knowmon.gossip import awareness
from sodos.knowmon.gossip import params as gossip_params
from tests.unit.knowmon_gossip import netsim
from tests.unit.knowmon_gossip.test_rules import OTHERS
from tests.unit.knowmon_gossip.test_rules import PARAMS
from tests.unit.knowmon_gossip.test_rules import hear
from tests.unit.knowmon_gossip.test_rules import member
from tests.unit.knowmon_gossip.test_rules import msg
from tests.unit.knowmon_gossip.test_rules import upd

INTERVAL = PARAMS.probe_interval
TIMEOUT = PARAMS.probe_timeout


def of_type(outs, kind):
    return [out for out in outs if out.message.type == kind]


def unanswered_probe(node, now=0.0):
    """Start a probe, let it time out; the ping and the ping_reqs."""
    [ping] = of_type(node.on_tick(now), 'ping')
    asked = of_type(
        node.on_tick(now + node.awareness.scale(TIMEOUT)), 'ping_req'
    )
    return ping, asked


def nack(helper, ping):
    target = ping.message.target
    return msg(sender=helper, kind='nack', seq=ping.message.seq, target=target)


# -- the score ----------------------------------------------------------------


def test_score_stays_between_zero_and_under_the_limit():
    score = awareness.Awareness(4)
    score.apply(-1)
    assert score.score == 0
    score.apply(10)
    assert score.score == 3
    assert score.scale(0.5) == 4 * 0.5
    with pytest.raises(ValueError):
        awareness.Awareness(0)


def test_awareness_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        gossip_params.Params(awareness_max=0)


# -- nacks --------------------------------------------------------------------


def test_helper_nacks_once_when_the_target_stays_silent():
    node = member()
    [ping] = node.on_message(
        msg(sender='b', kind='ping_req', seq=7, target='c'), 0.0
    )
    assert of_type(node.on_tick(TIMEOUT / 2), 'nack') == []
    [sent] = of_type(node.on_tick(TIMEOUT), 'nack')
    assert sent.to == 'b'
    assert (sent.message.seq, sent.message.target) == (7, 'c')
    assert of_type(node.on_tick(TIMEOUT * 1.5), 'nack') == []


def test_helper_that_got_the_ack_relays_it_and_never_nacks():
    node = member()
    [ping] = node.on_message(
        msg(sender='b', kind='ping_req', seq=7, target='c'), 0.0
    )
    node.on_message(
        msg(sender='c', kind='ack', seq=ping.message.seq, target='c'), 0.01
    )
    assert of_type(node.on_tick(TIMEOUT), 'nack') == []


def test_failed_probe_whose_helpers_all_nacked_leaves_the_score():
    node = member()
    ping, asked = unanswered_probe(node)
    for out in asked:
        node.on_message(nack(out.to, ping), TIMEOUT * 2)
    node.on_tick(INTERVAL)
    assert node.view()[ping.to][0] == 'suspect'
    # Every helper failed too: the fault is the target's, not ours.
    assert node.health() == 0


@pytest.mark.parametrize('nacked', [0, 1, 2])
def test_each_silent_helper_counts_against_the_prober(nacked):
    node = member()
    ping, asked = unanswered_probe(node)
    for out in asked[:nacked]:
        node.on_message(nack(out.to, ping), TIMEOUT * 2)
    node.on_tick(INTERVAL)
    assert node.view()[ping.to][0] == 'suspect'
    assert node.health() == PARAMS.indirect_checks - nacked


def test_nack_from_a_member_not_asked_does_not_count():
    node = member()
    ping, asked = unanswered_probe(node)
    stranger = next(
        n for n in OTHERS if n not in {o.to for o in asked} | {ping.to}
    )
    node.on_message(nack(stranger, ping), TIMEOUT * 2)
    node.on_tick(INTERVAL)
    assert node.health() == PARAMS.indirect_checks
    assert node.dropped['late nack'] == 1


def test_direct_ack_in_time_lowers_the_score():
    node = member()
    node.awareness.apply(2)
    [ping] = of_type(node.on_tick(0.0), 'ping')
    target = ping.message.target
    node.on_message(
        msg(sender=target, kind='ack', seq=ping.message.seq, target=target),
        0.01,
    )
    assert node.health() == 1


def test_ack_relayed_by_a_helper_leaves_the_score():
    node = member()
    node.awareness.apply(2)
    ping, asked = unanswered_probe(node)
    node.on_message(
        msg(
            sender=asked[0].to,
            kind='ack',
            seq=ping.message.seq,
            target=ping.message.target,
        ),
        3 * TIMEOUT * 1.5,
    )
    node.on_tick(3 * INTERVAL)
    assert node.view()[ping.to][0] == 'alive'
    assert node.health() == 2


def test_refuting_a_suspicion_of_oneself_raises_the_score():
    node = member()
    hear(node, upd('a', 'suspect', 0))
    assert node.incarnation == 1
    assert node.health() == 1


# -- what the score stretches -------------------------------------------------


def test_unhealthy_member_probes_less_often_and_waits_longer():
    node = member()
    unanswered_probe(node)
    # No helper nacked: 3 points against us, every timeout times 4.
    assert of_type(node.on_tick(INTERVAL), 'ping')
    assert node.health() == 3
    assert of_type(node.on_tick(INTERVAL + TIMEOUT), 'ping_req') == []
    assert of_type(node.on_tick(INTERVAL + 4 * TIMEOUT), 'ping_req')
    assert of_type(node.on_tick(INTERVAL + 2 * INTERVAL), 'ping') == []
    assert of_type(node.on_tick(INTERVAL + 4 * INTERVAL), 'ping')


def test_unhealthy_member_holds_a_suspicion_longer():
    healthy, sick = member(), member()
    sick.awareness.apply(3)
    lasts = gossip_params.suspicion_timeout(PARAMS, healthy.size(), 0)
    for node in (healthy, sick):
        hear(node, upd('c', 'suspect', 0))
        node.on_tick(lasts)
    assert healthy.view()['c'] == ('dead', 0)
    assert sick.view()['c'] == ('suspect', 0)
    sick.on_tick(4 * lasts)
    assert sick.view()['c'] == ('dead', 0)


# -- gossip pushes ------------------------------------------------------------


def test_pending_news_is_pushed_to_a_few_members():
    node = member()
    pushed = of_type(node.on_tick(0.0), 'gossip')
    assert len({out.to for out in pushed}) == PARAMS.gossip_nodes
    for out in pushed:
        assert upd('a', 'alive', 0, by='a') in out.message.updates


def test_nothing_is_pushed_when_nothing_is_pending():
    node = member()
    now = 0.0
    while node.backlog():
        node.on_tick(now)
        now += PARAMS.gossip_interval
    assert of_type(node.on_tick(now + PARAMS.gossip_interval), 'gossip') == []


def test_gossip_received_is_applied_and_not_answered():
    node = member()
    raw = msg(
        sender='b', kind='gossip', target='a', updates=[upd('c', 'dead', 0)]
    )
    assert node.on_message(raw, 0.0) == []
    assert node.view()['c'] == ('dead', 0)


# -- stale probes -------------------------------------------------------------


def test_probe_of_a_member_that_came_back_meanwhile_raises_no_suspicion():
    node = member()
    ping, _ = unanswered_probe(node)
    target = ping.message.target
    # It restarted (a higher incarnation) after our ping went out: the
    # ping said nothing of the new process.
    hear(node, upd(target, 'alive', 5, by=target), now=TIMEOUT * 2)
    node.on_tick(INTERVAL)
    assert node.view()[target] == ('alive', 5)
    assert node.health() == 0


# -- on a network -----------------------------------------------------------


@pytest.mark.parametrize('seed', [5, 6])
def test_lossy_member_is_the_one_whose_score_rises(seed):
    net = netsim.Network(netsim.names(10), seed=seed)
    lossy = 'site-02'
    net.member_loss[lossy] = 0.5
    net.run(120)
    assert net.nodes[lossy].health() > 0
    assert [
        n for n in net.live() if net.nodes[n].health() and n != lossy
    ] == []
    assert net.ever_dead == {}
