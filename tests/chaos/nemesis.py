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

"""Faults on the sites of a LocalFederation, chosen by a seed.

Each fault is healed after a time the seed draws, and all of them at the
end of a run:

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

No more than ``max_down`` sites are ever down at once, counting the
sites of a partition's minority, so that five voters keep a quorum; a
bridge or a ring partition, where no majority agrees, runs alone. A site
killed or given a bit flip counts as down after its restart too, until
it is a voter in quorum again (or RECOVERY seconds have passed): a site
takes seconds to start on a busy machine, and one whose files were set
aside votes again only once the leader has replaced it as a voter, so
that faults on two more sites meanwhile would take the quorum away (or
leave a majority of voters with no log, which no Raft survives).
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

from sodos import exception
from sodos.kb.raft import control
from sodos.kb.raft import journal as raft_journal
from sodos.kb.raft import settings as raft_settings
from sodos.kb.raft import store
from tests.chaos import clock

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
# Seconds a restarted site counts as down at most, waiting to be a voter
# in quorum again.
RECOVERY = 120.0
# Seconds between two looks at the restarted sites.
POLL = 0.5


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


def raft_files(data_dir: str) -> list[str]:
    """A site's Raft files that exist, the journal's meta included."""
    journal = raft_settings.journal_path(data_dir)
    found = [
        journal,
        raft_journal.meta_path(journal),
        raft_settings.dump_path(data_dir),
    ]
    return [p for p in found if os.path.exists(p) and os.path.getsize(p)]


def flip_bit(rng: random.Random, data_dir: str) -> dict[str, Any]:
    """Flip one bit of one of the Raft files in ``data_dir``, as chosen by
    ``rng``; where it was."""
    files = raft_files(data_dir)
    if not files:
        return {'file': None}
    path = rng.choice(files)
    size = os.path.getsize(path)
    offset, bit = rng.randrange(size), rng.randrange(8)
    with open(path, 'r+b') as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ (1 << bit)]))
    return {
        'file': os.path.basename(path),
        'offset': offset,
        'bit': bit,
        'size': size,
    }


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


class Churn:
    """A site leaving the federation and joining it again."""

    def __init__(self, fed: Any) -> None:
        self.fed = fed

    def leave(self, site: Any) -> None:
        control.call(site.address, self.fed.key, 'leave', site=site.name)

    def has_left(self, site: Any) -> bool:
        try:
            record = store.MembershipFile(site.data_dir).load() or {}
        except ValueError:
            return False
        return bool(record.get('left'))

    def rejoin(self, site: Any, via: Any) -> None:
        """Join ``site`` again through ``via``, or any other site if
        ``via`` goes away meanwhile (the next fault may be its)."""
        site.stop()
        aside = 0
        while os.path.exists('%s.left-%d' % (site.data_dir, aside)):
            aside += 1
        os.replace(site.data_dir, '%s.left-%d' % (site.data_dir, aside))
        others = [s.address for s in self.fed.sites.values() if s is not site]
        site.join = [via.address] + [a for a in others if a != via.address]
        site.write_config()
        site.start()


class Nemesis:
    def __init__(
        self,
        fed: Any,
        history: Any,
        seed: int,
        faults: int,
        interval: float = 3.0,
        max_down: int = 2,
        log: Any = None,
        hold: tuple[float, float] = (2.0, 6.0),
        kinds: tuple[str, ...] | None = None,
        recovered: Any = None,
        churn: Any = None,
        faketime: str | None = None,
    ) -> None:
        self.fed = fed
        self.history = history
        self.rng = random.Random(seed)
        # The kinds in their order are the seed's alone: the other draws
        # (which site, for how long) depend on what is up at the time.
        self.kind_rng = random.Random('%s-kinds' % seed)
        self.faults = faults
        self.interval = interval
        self.max_down = max_down
        # libfaketime's path, for skew.
        self.faketime = faketime
        self.kinds = check_kinds(
            kinds, hasattr(fed, 'cut'), skew=faketime is not None
        )
        # Whether a restarted site is back: a voter in quorum.
        self.recovered = recovered or (lambda site: voter_in_quorum(fed, site))
        self.churn = churn or Churn(fed)
        # Healed by a restart, not yet recovered.
        self.recovering: list[dict[str, Any]] = []
        # How long a fault lasts: seconds, drawn from the seed.
        self.hold = hold
        self.log = log or (lambda message: None)
        self.done = threading.Event()
        self.stopping = threading.Event()
        # {'kind', 'site', 'sites', 'start', 'end', 'heal_at', ...}: site
        # names the lane on the history page, sites those down; end None
        # until healed
        self.record: list[dict[str, Any]] = []
        # The kind drawn for the next fault, kept until it fits.
        self._next_kind: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name='nemesis')
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(60)

    def active(self) -> list[dict[str, Any]]:
        return [f for f in self.record if f['end'] is None]

    def _run(self) -> None:
        # Heals fall due on their own clock, between two faults too: a
        # fault lasts what the seed said, not until the next tick.
        now = self.history.now
        next_fault = now() + self._gap()
        try:
            while (
                len(self.record) < self.faults
                or self.active()
                or self.recovering
            ):
                due = [f['heal_at'] for f in self.active()]
                if self.recovering:
                    due.append(now() + POLL)
                if len(self.record) < self.faults:
                    due.append(next_fault)
                if self.stopping.wait(max(0.0, min(due) - now())):
                    break
                self._heal_due()
                self._check_recovered()
                if len(self.record) >= self.faults or now() < next_fault:
                    continue
                if self._next_kind is None:
                    self._next_kind = self.kind_rng.choice(self.kinds)
                if self._fits(self._next_kind):
                    self._inject(self._next_kind)
                    self._next_kind = None
                    next_fault = now() + self._gap()
                else:
                    # Too many down: the next fault waits for a heal or
                    # a recovery.
                    heals = [f['heal_at'] for f in self.active()]
                    next_fault = min(heals or [now() + POLL])
        finally:
            self.done.set()

    def _gap(self) -> float:
        return self.rng.uniform(0.5, 1.5) * self.interval

    def _down(self) -> set[str]:
        return {s for f in self.active() + self.recovering for s in f['sites']}

    def _fits(self, kind: str) -> bool:
        active = self.active()
        if any(f['kind'] in ALONE for f in active):
            return False
        if kind in ALONE:
            return not active and not self.recovering
        room = self.max_down - len(self._down())
        if kind == 'partition-halves':
            return room >= self._minority() and not self._partitioned()
        if kind == 'partition-leader':
            return room >= 1 and not self._partitioned()
        return room >= 1

    def _partitioned(self) -> bool:
        return any(f['kind'] in PARTITION_KINDS for f in self.active())

    def _minority(self) -> int:
        return min(self.max_down, (len(self.fed.sites) - 1) // 2)

    def _up(self) -> list[str]:
        down = self._down()
        return sorted(n for n in self.fed.sites if n not in down)

    def _leader_in(self, up: list[str]) -> str | None:
        """The leader, if it is among ``up``."""
        leader = self.fed.leader()
        return leader.name if leader and leader.name in up else None

    def _inject(self, kind: str) -> None:
        if kind in PARTITION_KINDS:
            fault = self._partition(kind)
        elif kind in LINK_KINDS:
            fault = self._link_fault(kind)
        else:
            fault = self._process_fault(kind)
        now = self.history.now()
        hold = self.rng.uniform(*self.hold)
        if kind == SKEW:
            hold *= SKEW_HOLD
        fault.update(start=now, end=None, heal_at=now + hold)
        self.record.append(fault)
        self.log(
            'fault %d: %s %s%s'
            % (
                len(self.record),
                fault['kind'],
                fault['site'],
                ' ' + fault['detail'] if fault.get('detail') else '',
            )
        )

    def _process_fault(self, kind: str) -> dict[str, Any]:
        up = self._up()
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
        elif kind == SKEW:
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
            flipped = flip_bit(self.rng, site.data_dir)
            fault['flipped'] = flipped
            fault['detail'] = (
                '%(file)s byte %(offset)s of %(size)s, bit %(bit)s' % flipped
                if flipped['file']
                else 'no Raft file yet'
            )
        fault['sites'] = [target]
        return fault

    def _partition(self, kind: str) -> dict[str, Any]:
        up = self._up()
        names = sorted(self.fed.sites)
        down: list[str] = []
        if kind == 'partition-halves':
            down = sorted(self.rng.sample(up, self._minority()))
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
            'site': NETWORK,
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

    def _link_fault(self, kind: str) -> dict[str, Any]:
        target = self.rng.choice(self._up())
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

    def _heal(self, fault: dict[str, Any], final: bool = False) -> None:
        site = self.fed.sites.get(fault['site'])
        if fault['kind'] in PARTITION_KINDS:
            self.fed.heal(fault['links'])
        elif fault['kind'] in LINK_KINDS:
            self.fed.degrade(fault['site'], delay=0.0, jitter=0.0, drop=0.0)
        elif fault['kind'] == 'freeze':
            site.thaw()
        elif fault['kind'] == 'churn' and not self._rejoin(fault, final):
            return
        if fault['kind'] == SKEW:
            # Back on the true time: restarted without libfaketime.
            site.kill()
        if fault['kind'] in ('kill', 'kill-leader', 'bitflip', SKEW):
            site.start()
        if fault['kind'] in RESTARTED:
            fault['recovered'] = None
            self.recovering.append(fault)
        fault['end'] = self.history.now()
        self.log('healed: %s %s' % (fault['kind'], fault['site']))

    def _rejoin(self, fault: dict[str, Any], final: bool) -> bool:
        """Whether the churned site of ``fault`` is healed now: it joins
        again once it has left (waited for at the end of the run)."""
        site = self.fed.sites[fault['site']]
        while not self.churn.has_left(site):
            waited = self.history.now() - fault['start']
            if waited > RECOVERY or fault.get('refused'):
                # It never left: nothing to heal.
                fault.setdefault('detail', 'did not leave in time')
                fault['end'] = self.history.now()
                self.log('%s did not leave: %s' % (site.name, fault['detail']))
                return False
            if not final:
                fault['heal_at'] = self.history.now() + POLL
                return False
            time.sleep(POLL)
        via = self.fed.sites[self.rng.choice(self._up())]
        self.churn.rejoin(site, via)
        return True

    def _check_recovered(self) -> None:
        for fault in list(self.recovering):
            now = self.history.now()
            if self.recovered(self.fed.sites[fault['site']]):
                fault['recovered'] = now
            elif now - fault['end'] < RECOVERY:
                continue
            else:
                self.log(
                    'not recovered after %.0f s: %s %s'
                    % (RECOVERY, fault['kind'], fault['site'])
                )
            self.recovering.remove(fault)

    def _heal_due(self) -> None:
        for fault in self.active():
            if fault['heal_at'] <= self.history.now():
                self._heal(fault)

    def heal_all(self) -> None:
        for fault in self.active():
            self._heal(fault, final=True)


def member_status(fed: Any, site: Any) -> dict[str, Any] | None:
    try:
        status: dict[str, Any] = control.call(site.address, fed.key, 'status')
        return status['member']
    except exception.SodosError:
        return None


def voter_in_quorum(fed: Any, site: Any) -> bool:
    status = member_status(fed, site)
    return bool(status and status['role'] == 'voter' and status['has_quorum'])


def voters_behind(
    fed: Any, timeout: float, roles: tuple[str, ...] = ('voter',)
) -> list[str]:
    """Members of ``roles`` (voters by default; 'readonly' too) whose
    applied index has not reached the leader's commit index (as it was
    once a leader was found) within ``timeout``."""
    deadline = time.monotonic() + timeout
    target = None
    while target is None and time.monotonic() < deadline:
        for site in fed.sites.values():
            status = member_status(fed, site)
            if status and status.get('is_leader') and status['has_quorum']:
                target = status['commit_index']
                break
        else:
            time.sleep(0.2)
    if target is None:
        return sorted(fed.sites)
    behind = sorted(fed.sites)
    while behind and time.monotonic() < deadline:
        still = []
        for name in behind:
            status = member_status(fed, fed.sites[name])
            if status is None or (
                status['role'] in roles and status['last_applied'] < target
            ):
                still.append(name)
        behind = still
        if behind:
            time.sleep(0.2)
    return behind
