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

"""A member whose Raft files fail their check at start.

It must neither carry on with an empty or half Knowledge Base as if all
were well (pysyncobj logs "failed to load full dump" and goes on) nor
vote on a log it lost: it sets its files aside, says which file failed,
replicates afresh without voting, and votes again only once the leader
no longer counts it as a voter.
"""

import os
import time

import pytest

from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import journal
from sodos.kb.raft import journal_format
from sodos.sim import ports


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError('timed out waiting for ' + what)


def flip_a_bit_inside(path):
    _, offsets, _ = journal_format.scan(path)
    assert len(offsets) > 2, offsets
    with open(path, 'r+b') as f:
        f.seek(offsets[1] + journal_format.RECORD.size)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x01]))


def flip_a_bit_of_the_term_and_vote(path):
    path = journal.meta_path(path)
    data = bytearray(open(path, 'rb').read())
    # The last digit: of the checksum, or of a value it covers.
    at = max(i for i, b in enumerate(data) if chr(b).isdigit())
    data[at] ^= 0x01
    with open(path, 'wb') as f:
        f.write(data)


def raise_alerts(member, count):
    for i in range(count):
        member.propose(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': member.site,
                'kind': 'test',
                'severity': 'info',
                'message': 'm%d' % i,
            },
        )


@pytest.fixture
def running():
    members = []
    yield members
    for member in members:
        member.stop()


def started(conf, running):
    member = raft_backend.RaftBackend(conf)
    running.append(member)
    member.start()
    return member


@pytest.mark.parametrize(
    'flip, name',
    [
        (flip_a_bit_inside, 'journal'),
        (flip_a_bit_of_the_term_and_vote, 'journal.state'),
    ],
)
def test_a_member_with_a_corrupt_journal_replicates_afresh(
    make_conf, running, caplog, flip, name
):
    leader = started(
        make_conf(address=ports.free_address(), voter_count=1), running
    )
    assert leader.wait_ready(15), leader.problem
    conf = make_conf(
        site='site-b', address=ports.free_address(), join=[leader.address]
    )
    member = started(conf, running)
    assert member.wait_ready(15), member.problem
    raise_alerts(leader, 5)
    wait_for(lambda: len(member.read('alerts')) == 5, 'replication')
    member.stop()
    running.remove(member)
    flip(member.settings.journal)

    member = started(conf, running)
    said = [
        r.getMessage() for r in caplog.records if r.levelname == 'CRITICAL'
    ]
    assert [m for m in said if 'failed their check' in m], said
    bad = os.path.join(member.settings.data_dir, name)
    assert [m for m in said if bad + ':' in m], said
    aside = os.listdir(member.settings.data_dir)
    assert [n for n in aside if n.startswith(name + '.unchecked-')], aside
    assert not member.runner.voter
    wait_for(
        lambda: member.read('alerts') == leader.read('alerts'),
        'the member to replicate afresh',
    )
    wait_for(lambda: member.problem is None, 'the problem to be over')


def test_a_voter_with_corrupt_files_refuses_to_vote(make_conf, running):
    conf = make_conf(address=ports.free_address(), voter_count=1)
    voter = started(conf, running)
    assert voter.wait_ready(15), voter.problem
    raise_alerts(voter, 3)
    voter.stop()
    running.remove(voter)
    flip_a_bit_inside(voter.settings.journal)

    voter = started(conf, running)
    # It is still the only voter the federation has, but it does not vote
    # on a log it lost: without another voter, no leader (an operator's
    # matter, said by the problem).
    assert not voter.runner.voter
    assert not voter.in_quorum()
    assert voter.settings.journal in voter.problem
    assert 'votes again only once the leader has replaced it' in (
        voter.problem
    )
    assert voter.health.may_vote([voter.address]) is False
    # Once the leader no longer counts it as a voter, the refusal is over
    # (and the problem once the leader finds it applying its log).
    assert voter.health.may_vote(['127.0.0.1:1']) is False
    assert voter.health.may_vote([voter.address]) is True
    voter.behind(None)
    assert voter.problem is None
