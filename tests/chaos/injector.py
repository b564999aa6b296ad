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

"""Each kind of fault (tests/chaos/fault_kinds.py) made on the sites of
a federation, and undone. Which fault, when, and on how many sites at
once is the nemesis's to decide; the choices left here (which site up,
which bit, how slow) are drawn from the nemesis's seeded ``rng``."""

from __future__ import annotations

import random
from typing import Any

from sodos import exception
from tests.chaos import bit_flip
from tests.chaos import clock
from tests.chaos import fault_kinds


def ring_cuts(sites: list[str]) -> list[tuple[str, str]]:
    """Pairs to cut so that each site of the ring ``sites`` hears only its
    nearest neighbours, a bare majority with itself."""
    n = len(sites)
    reach = -(-(n // 2) // 2)
    cut = []
    for i in range(n):
        for j in range(i + 1, n):
            if min(j - i, n - (j - i)) > reach:
                cut.append((sites[i], sites[j]))
    return cut


class Injector:
    """Makes and undoes faults on ``fed``'s sites and links.

    A fault is a dict: ``kind``; ``site``, its lane on the history page
    (``network`` for a partition); ``sites``, those it takes down; and
    what undoing it needs (``links`` cut) or a reader wants (``detail``).
    """

    def __init__(
        self,
        fed: Any,
        rng: random.Random,
        churn: Any,
        faketime: str | None = None,
    ) -> None:
        self.fed = fed
        # The nemesis's: one seeded sequence of draws for the whole run.
        self.rng = rng
        self.churn = churn
        # libfaketime's path, for skew.
        self.faketime = faketime

    def inject(
        self, kind: str, up: list[str], minority: int
    ) -> dict[str, Any]:
        """Make a fault of ``kind`` on sites among ``up``; a partition of
        halves cuts ``minority`` sites off."""
        if kind in fault_kinds.PARTITION_KINDS:
            return self._partition(kind, up, minority)
        if kind in fault_kinds.LINK_KINDS:
            return self._link_fault(kind, up)
        return self._process_fault(kind, up)

    def heal(self, fault: dict[str, Any], up: list[str]) -> None:
        """Undo ``fault``; a churned site (which has left) joins again
        through one of ``up``."""
        site = self.fed.sites.get(fault['site'])
        if fault['kind'] in fault_kinds.PARTITION_KINDS:
            self.fed.heal(fault['links'])
        elif fault['kind'] in fault_kinds.LINK_KINDS:
            self.fed.degrade(fault['site'], delay=0.0, jitter=0.0, drop=0.0)
        elif fault['kind'] == 'freeze':
            site.thaw()
        elif fault['kind'] == 'churn':
            self.churn.rejoin(site, self.fed.sites[self.rng.choice(up)])
        if fault['kind'] == fault_kinds.SKEW:
            # Back on the true time: restarted without libfaketime.
            site.kill()
        if fault['kind'] in (
            'kill',
            'kill-leader',
            'bitflip',
            fault_kinds.SKEW,
        ):
            self.restart(site, up)

    def restart(self, site: Any, up: list[str]) -> None:
        """Start ``site`` again; one that left the federation meanwhile
        (a churn whose leave was answered too late to count, then went
        through) joins again instead, as it could not start."""
        if self.churn.has_left(site):
            via = [n for n in up if n != site.name]
            self.churn.rejoin(site, self.fed.sites[self.rng.choice(via)])
        else:
            site.start()

    def _leader_in(self, up: list[str]) -> str | None:
        """The leader, if it is among ``up``."""
        leader = self.fed.leader()
        return leader.name if leader and leader.name in up else None

    def _process_fault(self, kind: str, up: list[str]) -> dict[str, Any]:
        target = None
        if kind == 'kill-leader':
            target = self._leader_in(up)
        if target is None:
            kind = 'kill' if kind == 'kill-leader' else kind
            target = self.rng.choice(up)
        site = self.fed.sites[target]
        fault: dict[str, Any] = {'kind': kind, 'site': target}
        if kind == 'freeze':
            site.freeze()
        elif kind == fault_kinds.SKEW:
            fault.update(self._skew(site))
        elif kind == 'churn':
            try:
                self.churn.leave(site)
            except exception.SodosError as exc:
                # No quorum to let it go, say: it stays a member.
                fault['refused'] = True
                fault['detail'] = 'leave refused: %s' % exc
        else:
            site.kill()
        if kind == 'bitflip':
            flipped = bit_flip.flip_bit(self.rng, site.data_dir)
            fault['flipped'] = flipped
            fault['detail'] = (
                '%(file)s byte %(offset)s of %(size)s, bit %(bit)s' % flipped
                if flipped['file']
                else 'no Raft file yet'
            )
        fault['sites'] = [target]
        return fault

    def _partition(
        self, kind: str, up: list[str], minority: int
    ) -> dict[str, Any]:
        names = sorted(self.fed.sites)
        down: list[str] = []
        if kind == 'partition-halves':
            down = sorted(self.rng.sample(up, minority))
            links = self.fed.cut([down, [n for n in names if n not in down]])
        elif kind == 'partition-leader':
            down = [self._leader_in(up) or self.rng.choice(up)]
            links = self.fed.cut([down, [n for n in names if n not in down]])
        elif kind == 'partition-bridge':
            order = self.rng.sample(names, len(names))
            half = (len(order) - 1) // 2
            bridge, left, right = (
                order[0],
                order[1 : 1 + half],
                order[1 + half :],
            )
            links = self.fed.cut([left, right])
        else:
            order = self.rng.sample(names, len(names))
            links = []
            for a, b in ring_cuts(order):
                links += self.fed.cut([[a], [b]])
        if kind == 'partition-bridge':
            detail = '%s | %s | %s' % (','.join(left), bridge, ','.join(right))
        elif kind == 'partition-ring':
            detail = 'ring ' + ','.join(order)
        else:
            detail = '%s cut off' % ','.join(down)
        return {
            'kind': kind,
            'site': fault_kinds.NETWORK,
            'sites': down,
            'links': links,
            'detail': detail,
        }

    def _skew(self, site: Any) -> dict[str, Any]:
        assert self.faketime is not None
        seconds = self.rng.choice((-1, 1)) * self.rng.uniform(5, 300)
        site.kill()
        site.start(env=clock.environment(self.faketime, seconds))
        return {'skew': round(seconds), 'detail': '%+d s' % seconds}

    def _link_fault(self, kind: str, up: list[str]) -> dict[str, Any]:
        target = self.rng.choice(up)
        if kind == 'slow':
            delay = self.rng.uniform(0.1, 0.5)
            self.fed.degrade(target, delay=delay * 0.8, jitter=delay * 0.2)
            detail = '%d ms' % (delay * 1000)
        else:
            drop = self.rng.uniform(0.02, 0.1)
            self.fed.degrade(target, drop=drop)
            detail = 'drop %.0f %%' % (drop * 100)
        # A slow or lossy site counts as down: its links may cost it its
        # place in a quorum.
        return {
            'kind': kind,
            'site': target,
            'sites': [target],
            'detail': detail,
        }
