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

"""The kinds of fault the nemesis draws, and which are possible where.

``kill-leader``, ``kill``
    SIGKILL of the leader or of any site; healed by a restart from the
    site's data directory.
``freeze``
    SIGSTOP; healed by SIGCONT.
``bitflip``
    SIGKILL, then one bit flipped in one of the site's Raft files (its
    journal, the journal's term and vote, or its dump); healed by a
    restart, where the site must find its files bad, set them aside and
    replicate afresh.
``churn``
    The site leaves the federation (as ``sodos-manage federation leave``
    asks); healed, once it has left, by stopping it, moving its Raft
    files aside and starting it again to join under its name through a
    site up.
``partition-halves``, ``partition-leader``, ``partition-bridge``,
``partition-ring``
    Links between sites cut (a federation in network namespaces only,
    tests/chaos/network.py): a minority from the rest; the leader from
    all others; two halves joined by one site only; a ring where each
    site hears its neighbours only, a majority each but not the same
    one. Healed by restoring the links.
``slow``, ``lossy``
    Every link of one site made slow (100 to 500 ms each way, a fifth of
    it in jitter) or lossy (each chunk of bytes breaks its connection
    with a probability of 2 to 10 %), by the proxies in front of the
    sites (tests/chaos/proxy.py; namespaces only). Healed by restoring
    the links.
``skew``
    The site restarted (SIGKILL) under libfaketime with its wall clock
    5 s to 5 min ahead or behind (tests/chaos/clock.py), for four times
    as long as other faults last; healed by a restart on the true time.
"""

from __future__ import annotations

PROCESS_KINDS = ('kill-leader', 'kill', 'freeze', 'bitflip', 'churn')
PARTITION_KINDS = (
    'partition-halves',
    'partition-leader',
    'partition-bridge',
    'partition-ring',
)
# Faults on one site's links, made by the proxies.
LINK_KINDS = ('slow', 'lossy')
# Needs libfaketime.
SKEW = 'skew'
# A skewed clock is held this many times longer than other faults: a
# site takes seconds to start, and should run skewed for a while.
SKEW_HOLD = 4.0
KINDS = PROCESS_KINDS + PARTITION_KINDS + LINK_KINDS + (SKEW,)
# Partitions where no majority of the sites agrees: nothing else runs
# beside them.
ALONE = ('partition-bridge', 'partition-ring')
# Faults healed by a (re)start, after which the site recovers.
RESTARTED = ('kill', 'kill-leader', 'bitflip', 'churn', SKEW)
# Where a partition's lane is on the history page.
NETWORK = 'network'


def check_kinds(
    kinds: tuple[str, ...] | None, partitions: bool, skew: bool = False
) -> tuple[str, ...]:
    """``kinds``, or all possible if None; ValueError naming those that
    are not possible (partitions and link faults need a federation that
    can cut links, skew needs libfaketime)."""
    possible = tuple(
        k
        for k in KINDS
        if (k in PROCESS_KINDS)
        or (k == SKEW and skew)
        or (k in PARTITION_KINDS + LINK_KINDS and partitions)
    )
    if kinds is None:
        return possible
    wrong = [k for k in kinds if k not in possible]
    if wrong or not kinds:
        raise ValueError(
            'fault kinds %s are not possible here (possible: %s)'
            % (', '.join(wrong) or 'none', ', '.join(possible))
        )
    return tuple(kinds)
