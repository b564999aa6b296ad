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


"""One member's rules, fed crafted messages: incarnation ordering,
refutation, suspicion confirmations, indirect probes, bad input."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sodos.knowmon.gossip import messages
from sodos.knowmon.gossip import params as gossip_params
from sodos.knowmon.gossip import swim

FED = 'fed-1'
PARAMS = gossip_params.Params()
OTHERS = ['b', 'c', 'd', 'e', 'f']


def member(me='a', others=OTHERS, incarnation=0):
    return swim.Swim(
        me, FED, [me, *others], PARAMS, random.Random(0), 0.0, incarnation
    )


def msg(sender='b', kind='ping', seq=1, target='a', inc=0, updates=()):
    return messages.Message(
        kind, sender, inc, seq, target, tuple(updates)
    ).to_dict(FED)


def upd(who, state, inc, by='b'):
    return messages.Update(who, state, inc, by)


def probing(outs):
    """What a tick sent but the gossip pushes (news of its own, sent
    whenever some is pending: here, the member's word that it is alive)."""
    return [out for out in outs if out.message.type != 'gossip']


def hear(node, *updates, sender='b', now=0.0):
    return node.on_message(
        msg(sender=sender, target=node.me, updates=updates), now
    )


def test_alive_with_a_higher_incarnation_overrides_a_suspicion():
    node = member()
    hear(node, upd('c', 'suspect', 3))
    assert node.view()['c'] == ('suspect', 3)
    hear(node, upd('c', 'alive', 3))
    assert node.view()['c'] == ('suspect', 3)
    hear(node, upd('c', 'alive', 4))
    assert node.view()['c'] == ('alive', 4)


def test_older_news_is_ignored():
    node = member()
    hear(node, upd('c', 'alive', 5))
    hear(node, upd('c', 'suspect', 4), upd('c', 'dead', 4))
    assert node.view()['c'] == ('alive', 5)


def test_dead_is_final_for_its_incarnation():
    node = member()
    hear(node, upd('c', 'dead', 2))
    hear(node, upd('c', 'alive', 2), upd('c', 'suspect', 2))
    assert node.view()['c'] == ('dead', 2)
    assert node.dead() == {'c'}
    hear(node, upd('c', 'alive', 3))
    assert node.view()['c'] == ('alive', 3)
    assert node.dead() == set()


def test_a_sender_vouches_for_itself_only_with_a_higher_incarnation():
    node = member()
    hear(node, upd('c', 'suspect', 0))
    node.on_message(msg(sender='c', inc=0), 0.0)
    assert node.view()['c'] == ('suspect', 0)
    node.on_message(msg(sender='c', inc=1), 0.0)
    assert node.view()['c'] == ('alive', 1)


def test_a_registered_incarnation_outranks_older_verdicts_only():
    node = member()
    hear(node, upd('c', 'dead', 5), upd('d', 'suspect', 7))
    moved = node.vouch({'c': 9, 'd': 7, 'e': 3, 'zz': 50}, 1.0)
    # c's death was of an earlier process; d is held at 7 already (its
    # suspicion stands); e was never heard, so 3 is news; zz is no
    # member.
    assert moved == ['c', 'e']
    view = node.view()
    assert view['c'] == ('alive', 9)
    assert view['d'] == ('suspect', 7)
    assert view['e'] == ('alive', 3)
    assert 'zz' not in view
    assert node.dead() == set()
    # Spread like the member's own word.
    [push] = [
        out for out in node.on_tick(2.0) if out.message.type == 'gossip'
    ][:1]
    assert upd('c', 'alive', 9, by='c') in push.message.updates


@pytest.mark.parametrize('state', ['suspect', 'dead'])
def test_member_refutes_a_suspicion_of_itself(state):
    node = member(incarnation=4)
    out = hear(node, upd('a', state, 4))
    assert node.incarnation == 5
    assert node.view()['a'] == ('alive', 5)
    # The ack to the message already carries the refutation.
    [ack] = out
    assert ack.message.inc == 5
    assert upd('a', 'alive', 5, by='a') in ack.message.updates


def test_stale_suspicion_of_oneself_needs_no_refutation():
    node = member(incarnation=4)
    hear(node, upd('a', 'suspect', 3))
    assert node.incarnation == 4


def test_suspicion_ends_in_death_when_not_refuted():
    node = member()
    hear(node, upd('c', 'suspect', 0), now=0.0)
    n = node.size()
    lasts = gossip_params.suspicion_timeout(PARAMS, n, 0)
    node.on_tick(lasts - 0.01)
    assert node.view()['c'] == ('suspect', 0)
    node.on_tick(lasts)
    assert node.view()['c'] == ('dead', 0)


def test_refutation_in_time_saves_the_member():
    node = member()
    hear(node, upd('c', 'suspect', 0), now=0.0)
    hear(node, upd('c', 'alive', 1), now=1.0)
    node.on_tick(1000.0)
    assert node.view()['c'] == ('alive', 1)


def test_a_suspect_that_left_the_federation_is_forgotten():
    node = member()
    hear(node, upd('c', 'suspect', 0), upd('d', 'suspect', 0), now=0.0)
    node.set_members(['a', 'b', 'd', 'e', 'f'], 1.0)
    node.on_tick(1000.0)
    assert 'c' not in node.view()
    assert node.view()['d'] == ('dead', 0)
    # Back in the list, it starts alive and no old suspicion kills it.
    node.set_members(['a', 'b', 'c', 'd', 'e', 'f'], 1000.0)
    node.on_tick(5000.0)
    assert node.view()['c'] == ('alive', 0)


def _death_time(suspecters):
    node = member(others=[chr(ord('b') + i) for i in range(20)])
    for by in suspecters:
        hear(node, upd('u', 'suspect', 0, by=by), now=0.0)
    now = 0.0
    while node.view()['u'][0] != 'dead':
        now += 0.05
        node.on_tick(now)
    return now


def test_independent_confirmations_shorten_the_suspicion():
    alone = _death_time(['b'])
    confirmed = _death_time(['b', 'c', 'd'])
    # The same suspecter twice is not a confirmation.
    repeated = _death_time(['b', 'b', 'b'])
    assert confirmed < alone
    assert repeated == alone


def test_ping_is_acked_with_its_sequence_number():
    node = member()
    [ack] = node.on_message(msg(sender='c', seq=42), 0.0)
    assert (ack.to, ack.message.type, ack.message.seq) == ('c', 'ack', 42)
    assert ack.message.target == 'a'


def test_indirect_probe_relays_the_ack_to_the_requester():
    node = member()
    [ping] = node.on_message(
        msg(sender='b', kind='ping_req', seq=7, target='c'), 0.0
    )
    assert (ping.to, ping.message.type) == ('c', 'ping')
    [relayed] = node.on_message(
        msg(sender='c', kind='ack', seq=ping.message.seq, target='c'), 0.1
    )
    assert (relayed.to, relayed.message.type) == ('b', 'ack')
    assert (relayed.message.seq, relayed.message.target) == (7, 'c')


def test_unanswered_probe_asks_others_then_suspects():
    node = member()
    [ping] = probing(node.on_tick(0.0))
    target = ping.message.target
    asked = probing(node.on_tick(PARAMS.probe_timeout))
    helpers = {out.to for out in asked}
    assert {out.message.type for out in asked} == {'ping_req'}
    assert len(helpers) == PARAMS.indirect_checks
    assert target not in helpers and 'a' not in helpers
    node.on_tick(PARAMS.probe_interval)
    assert node.view()[target][0] == 'suspect'


def test_acked_probe_raises_no_suspicion():
    node = member()
    [ping] = probing(node.on_tick(0.0))
    target = ping.message.target
    node.on_message(
        msg(sender=target, kind='ack', seq=ping.message.seq, target=target),
        0.05,
    )
    assert probing(node.on_tick(PARAMS.probe_timeout)) == []
    node.on_tick(PARAMS.probe_interval)
    assert node.view()[target][0] == 'alive'


def test_one_round_probes_every_member_once():
    node = member()
    targets = []
    for i in range(len(OTHERS)):
        out = node.on_tick(i * PARAMS.probe_interval)
        targets.extend(o.to for o in out if o.message.type == 'ping')
        # Ack each probe, so no suspicion reorders anything.
        for o in out:
            if o.message.type == 'ping':
                node.on_message(
                    msg(
                        sender=o.to,
                        kind='ack',
                        seq=o.message.seq,
                        target=o.to,
                    ),
                    i * PARAMS.probe_interval + 0.01,
                )
    assert sorted(targets) == sorted(OTHERS)


def test_a_doubted_member_is_told_what_is_believed_of_it():
    node = member()
    hear(node, upd('c', 'dead', 0))
    # Answer pings until every update has been sent its number of times.
    for seq in range(50):
        node.on_message(msg(sender='d', seq=seq), 0.0)
    assert node.backlog() == 0
    [ack] = node.on_message(msg(sender='c', inc=0, seq=9), 0.0)
    assert ack.message.updates == (upd('c', 'dead', 0, by='a'),)


@pytest.mark.parametrize(
    ('raw', 'reason'),
    [
        ('not a dict', 'not an object'),
        ({**msg(), 'v': 2}, 'unknown version'),
        ({**msg(), 'fed': 'someone-else'}, 'other federation'),
        ({**msg(), 'type': 'shutdown'}, 'unknown type'),
        ({**msg(), 'inc': True}, 'bad number'),
        ({**msg(), 'inc': -1}, 'bad number'),
        ({**msg(), 'seq': 2**60}, 'bad number'),
        ({**msg(), 'from': ''}, 'bad member name'),
        ({**msg(), 'updates': 'x'}, 'bad updates'),
        ({**msg(), 'updates': [{'member': 'c'}]}, 'bad update state'),
        ({**msg(), 'updates': [1]}, 'bad update'),
        (msg(sender='stranger'), 'unknown sender'),
        (msg(sender='a'), 'unknown sender'),
        (msg(target='b'), 'misdirected ping'),
        (msg(kind='ping_req', target='a'), 'bad ping_req'),
    ],
)
def test_bad_messages_are_dropped_and_counted(raw, reason):
    node = member()
    before = node.view()
    assert node.on_message(raw, 0.0) == []
    assert node.dropped == {reason: 1}
    assert node.view() == before


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=20,
)


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                'v': st.just(1),
                'fed': st.just(FED),
                'type': st.sampled_from(messages.TYPES),
                'from': st.sampled_from(OTHERS),
                'inc': json_values,
                'seq': json_values,
                'target': json_values,
                'updates': st.lists(json_values, max_size=3),
            }
        ),
    )
)
def test_no_input_makes_a_member_raise(raw):
    node = member()
    out = node.on_message(raw, 0.0)
    assert isinstance(out, list)
    # Answered, or counted as dropped: never silently swallowed.
    assert sum(node.dropped.values()) + len(out) >= 1


updates_about_c = st.lists(
    st.tuples(
        st.sampled_from(messages.STATES),
        st.integers(0, 4),
        st.sampled_from(OTHERS),
    ),
    min_size=1,
    max_size=12,
)


@given(updates_about_c, st.randoms(use_true_random=False))
def test_views_converge_whatever_the_order_of_updates(updates, rng):
    shuffled = list(updates)
    rng.shuffle(shuffled)
    one, other = member(), member()
    for node, order in ((one, updates), (other, shuffled)):
        for state, inc, by in order:
            hear(node, upd('c', state, inc, by=by))
    rank = {'alive': 0, 'suspect': 1, 'dead': 2}
    state, inc, _ = max(updates, key=lambda u: (u[1], rank[u[0]]))
    expected = ('alive', 0) if (inc, rank[state]) < (0, 0) else (state, inc)
    assert one.view()['c'] == other.view()['c'] == expected
