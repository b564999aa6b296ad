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

"""Checkers of a recorded history of single-register operations.

An operation is a dict: ``process``, ``f`` ('write' or 'read'), ``key``,
``value``, ``type`` ('ok', 'fail' or 'info') and ``invoke`` /
``complete`` monotonic times. 'info' means the outcome is unknown: the
write may take effect at any time after its invocation, or never.

Linearizability is searched for per key (Wing & Gong's search, with
Lowe's cache of (linearized set, register state) so that an interleaving
seen once is never explored again).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable
from typing import Any

# The register's value before any write.
INITIAL: Any = None


class SearchExhausted(Exception):
    """The search bound was hit before an answer: neither verdict."""


def _relevant(ops: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    # A failed op took no effect and a read of unknown outcome saw
    # nothing: neither constrains the register.
    kept = []
    for op in ops:
        if op['type'] == 'fail':
            continue
        if op['f'] == 'read' and op['type'] != 'ok':
            continue
        kept.append(op)
    # A write of unknown outcome whose value nobody read need never take
    # effect: in a linearization, no read follows it before the next
    # write. Left in, each one doubles the states of the search.
    seen = {o['value'] for o in kept if o['f'] == 'read'}
    return [
        o
        for o in kept
        if not (o['f'] == 'write' and o['type'] == 'info')
        or o['value'] in seen
    ]


def linearizable(
    ops: list[dict[str, Any]], bound: int = 200_000, initial: Any = INITIAL
) -> bool:
    """Whether one key's ops have a linearization.

    :raises SearchExhausted: after ``bound`` states explored.
    """
    ops = sorted(_relevant(ops), key=lambda o: o['invoke'])
    n = len(ops)
    invoke = [o['invoke'] for o in ops]
    # An op of unknown outcome is pending forever: it never forces an
    # order on the others.
    complete = [o['complete'] if o['type'] == 'ok' else math.inf for o in ops]
    must = 0
    for i, o in enumerate(ops):
        if o['type'] == 'ok':
            must |= 1 << i
    seen: set[tuple[int, Any]] = set()
    stack: list[tuple[int, Any]] = [(0, initial)]
    explored = 0
    while stack:
        done, state = stack.pop()
        if done & must == must:
            return True
        explored += 1
        if explored > bound:
            raise SearchExhausted('%d states explored' % explored)
        # Only an op invoked before every pending op's return may go
        # next: a pending op that returned earlier must precede it. Ops
        # are sorted by invocation, so both scans stop at the first op
        # invoked after that horizon (its return is later still).
        lo = (~done & (done + 1)).bit_length() - 1
        horizon = math.inf
        for i in range(lo, n):
            if invoke[i] > horizon:
                break
            if not done >> i & 1 and complete[i] < horizon:
                horizon = complete[i]
        for i in range(lo, n):
            if invoke[i] > horizon:
                break
            if done >> i & 1:
                continue
            op = ops[i]
            if op['f'] == 'write':
                after = op['value']
            elif op['value'] == state:
                after = state
            else:
                continue
            entry = (done | 1 << i, after)
            if entry not in seen:
                seen.add(entry)
                stack.append(entry)
    return False


def by_key(history: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    keys: dict[Any, list[dict[str, Any]]] = collections.defaultdict(list)
    for op in history:
        keys[op['key']].append(op)
    return dict(keys)


def check_linearizable(
    history: list[dict[str, Any]], bound: int = 200_000
) -> dict[str, Any]:
    """Keys with no linearization, and keys the bound left undecided."""
    violations, unknown = [], []
    for key, ops in sorted(by_key(history).items(), key=lambda kv: str(kv)):
        try:
            if not linearizable(ops, bound):
                violations.append(key)
        except SearchExhausted:
            unknown.append(key)
    return {'violations': violations, 'unknown': unknown}


def acked_lost(
    history: list[dict[str, Any]], final: dict[Any, Any]
) -> list[dict[str, Any]]:
    """Acknowledged writes neither in the final state nor possibly
    overwritten: no other write of the key (acknowledged or of unknown
    outcome) could be ordered after it."""
    lost = []
    for key, ops in by_key(history).items():
        writes = [
            o for o in ops if o['f'] == 'write' and o['type'] in ('ok', 'info')
        ]
        for w in writes:
            if w['type'] != 'ok' or final.get(key) == w['value']:
                continue
            later = [
                o
                for o in writes
                if o is not w
                and (o['type'] == 'info' or o['complete'] > w['invoke'])
            ]
            if not later:
                lost.append(w)
    return lost


def duplicates(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Values that came back: a value read, then another, then the first
    again by strictly sequential reads, while it was written only once.
    The mark of a command applied twice (say, replayed from a journal
    after a restart) when reads are linearizable; with stale reads it
    also counts a lagging reader, which linearizability reports too."""
    found = []
    for key, ops in by_key(history).items():
        written = collections.Counter(
            o['value'] for o in ops if o['f'] == 'write'
        )
        reads = sorted(
            (o for o in ops if o['f'] == 'read' and o['type'] == 'ok'),
            key=lambda o: o['invoke'],
        )
        # A chain of reads each invoked after the previous returned:
        # their real-time order is their order in the register.
        runs: list[Any] = []
        last_complete = -math.inf
        for r in reads:
            if r['invoke'] < last_complete:
                continue
            last_complete = r['complete']
            if not runs or runs[-1] != r['value']:
                runs.append(r['value'])
        counts = collections.Counter(runs)
        for value, count in counts.items():
            if count > 1 and written[value] == 1:
                found.append({'key': key, 'value': value, 'runs': count})
    return found


# Server states that hold no copy of a member: a deletion in progress.
GONE = ('DELETED',)


def members_running_twice(
    servers: dict[str, dict[str, str]],
) -> list[str]:
    """Member keys whose server exists at more than one site, from each
    site's ``{member key: status}`` (a server being deleted counts as
    gone). After the heal, every site that held a copy placed elsewhere
    should have deleted it."""
    sites: dict[str, set[str]] = collections.defaultdict(set)
    for site, found in servers.items():
        for key, status in found.items():
            if status not in GONE:
                sites[key].add(site)
    return sorted(key for key, where in sites.items() if len(where) > 1)


def members_not_running(
    servers: dict[str, dict[str, str]], appliances: list[str], members: int
) -> list[str]:
    """Appliances of ``appliances`` (ids) with fewer than ``members``
    member servers running (ACTIVE) anywhere."""
    running: dict[str, set[str]] = collections.defaultdict(set)
    for found in servers.values():
        for key, status in found.items():
            if status == 'ACTIVE':
                running[key.split('/', 1)[0]].add(key)
    return sorted(a for a in appliances if len(running[a]) < members)
