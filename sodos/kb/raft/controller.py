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

"""Carrying out membership decisions, one change at a time.

Runs in its own thread at every member and acts only while its member is
the Raft leader. Every change goes: take the replicated lock; change the
Raft configuration and wait for it to commit; record the new roles in the
KB; release the lock. An unknown outcome is reconciled by reading the
leader's configuration, never assumed (doc/source/contributor/design-notes.rst,
"One membership change at a time" and "Unknown outcomes").
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING
from typing import Any

from pysyncobj import FAIL_REASON
from pysyncobj.monotonic import monotonic

from sodos import exception
from sodos import periodic
from sodos.kb.raft import control
from sodos.kb.raft import heartbeat
from sodos.kb.raft import membership

if TYPE_CHECKING:
    from sodos.kb.raft.backend import RaftBackend

LOG = logging.getLogger(__name__)

PERIOD = 0.5
LOCK_TTL = 120.0
COUNTED_TIMEOUT = 20.0
# Seconds a candidate whose promotion failed goes to the back of the line.
PROMOTION_BACKOFF = 60.0


class Controller:
    def __init__(self, backend: RaftBackend) -> None:
        self.backend = backend
        self._loop = periodic.Periodic(
            'membership', self.cycle, lambda: PERIOD, first_wait=True
        )
        self._led_since: float | None = None
        self._disconnected: dict[str, float] = {}
        self._claimed_term: int | None = None
        self.last_decision = ''
        # Site -> when its promotion last failed.
        self._failed_promotions: dict[str, float] = {}

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop(5)

    def cycle(self) -> membership.Decision | None:
        status = self.backend.runner.status()
        if not status.get('is_leader') or not status.get('ready'):
            self._led_since = None
            self._disconnected.clear()
            return None
        now = monotonic()
        if self._led_since is None:
            self._led_since = now
        if self._claimed_term != status['term']:
            self._claim(status['term'])
        view = self._view(status, now)
        decision = membership.decide(view)
        if decision is None:
            return None
        text = '%s %s (%s): %s' % (
            decision.kind,
            decision.site,
            decision.address,
            decision.why,
        )
        if text != self.last_decision:
            LOG.info('membership: decided to %s', text)
            self.last_decision = text
        getattr(self, '_do_' + decision.kind)(decision)
        return decision

    def _claim(self, term: int) -> None:
        """Commit this leader's term, so a deposed leader's commands fail.

        A leader cut off from the others may believe it leads for up to
        [raft]leader_fallback_timeout; its commands carry its older term.
        """
        self.backend.propose('leader.claim', {'site': self.backend.site})
        self._claimed_term = term
        LOG.info('membership: %s leads in term %d', self.backend.site, term)

    def _view(self, status: dict[str, Any], now: float) -> membership.View:
        voters = frozenset(status['voters'])
        connected = frozenset(status['connected'])
        for address in voters - connected - {self.backend.address}:
            self._disconnected.setdefault(address, now)
        for address in list(self._disconnected):
            if address in connected or address not in voters:
                del self._disconnected[address]
        conf = self.backend.conf
        policy = self.backend.read('policy')
        commit = status['commit_index']
        sites = self.backend.read('sites')
        stuck = self.backend.heartbeats.marked('behind')
        return membership.View(
            leader=self.backend.address,
            voters=voters,
            connected=connected,
            disconnected_for={
                a: now - t for a, t in self._disconnected.items()
            },
            sites=sites,
            heard=self.backend.liveness(),
            lag={
                site: commit - applied
                for site, applied in self.backend.heartbeats.applied().items()
            },
            stalled=frozenset(
                sites[site]['address'] for site in stuck if site in sites
            ),
            voter_count=policy.get('voter_count') or conf.raft.voter_count,
            replace_after=conf.raft.voter_replace_timeout,
            alive_within=max(2.0, 3 * heartbeat.interval(conf)),
            avoid=frozenset(
                site
                for site, at in self._failed_promotions.items()
                if now - at < PROMOTION_BACKOFF
            ),
        )

    # -- the changes -----------------------------------------------------

    def _do_record(self, decision: membership.Decision) -> None:
        voters = self.backend.runner.status()['voters']
        role = 'voter' if decision.address in voters else 'readonly'
        self.backend.propose(
            'member.role',
            {'site': decision.site, 'role': role, 'voters': voters},
        )
        LOG.info('membership: recorded %s as %s', decision.site, role)

    def _do_transfer(self, decision: membership.Decision) -> None:
        status = self.backend.runner.status()
        targets = sorted(set(status['connected']) - {self.backend.address})
        for target in targets:
            if self.backend.runner.transfer_leadership(target) == 0:
                LOG.info('membership: handed leadership to %s', target)
                return
        LOG.warning('membership: no caught-up voter to hand leadership to')

    def _do_remove(self, decision: membership.Decision) -> None:
        with self._locked('remove %s' % decision.site):
            self._change('remove', decision.address)
            self._do_record(decision)
        LOG.info('membership: %s demoted: %s', decision.site, decision.why)

    def _do_add(self, decision: membership.Decision) -> None:
        address = decision.address
        with self._locked('add %s' % decision.site):
            future = self.backend.runner.membership_change('add', address)
            # The new configuration is in force once appended. Tell the
            # candidate to start voting now: with one voter, the add
            # itself cannot commit before the new voter acknowledges it.
            voters = self._wait_voters(address, present=True)
            try:
                control.call(
                    address,
                    self.backend.credentials,
                    'promote',
                    voters=voters,
                    leader=self.backend.address,
                )
                error = self._wait_future(future)
                if error != FAIL_REASON.SUCCESS:
                    raise exception.SodosError(
                        'the add did not commit (reason %s)' % error
                    )
                self._wait_counted(address)
            except exception.SodosError as exc:
                # Undo at once: a configuration counting a voter that
                # never came may have no quorum. Removing it is a legal
                # single change that the leader alone can commit then.
                LOG.warning(
                    'membership: promoting %s failed (%s); undoing',
                    decision.site,
                    exc,
                )
                self._failed_promotions[decision.site] = monotonic()
                self._change('remove', address)
                raise
            self._do_record(decision)
        LOG.info('membership: %s promoted: %s', decision.site, decision.why)

    # -- helpers ---------------------------------------------------------

    def _locked(self, description: str) -> _Lock:
        return _Lock(self, description)

    def _change(self, kind: str, address: str) -> None:
        future = self.backend.runner.membership_change(kind, address)
        error = self._wait_future(future)
        present = kind == 'add'
        if error != FAIL_REASON.SUCCESS:
            # Reconcile: the change is in force once appended, whatever
            # the callback said.
            voters = self.backend.runner.status()['voters']
            if (address in voters) != present:
                raise exception.SodosError(
                    '%s %s did not take effect (reason %s)'
                    % (kind, address, error)
                )
        self._wait_voters(address, present)

    def _wait_future(self, future: Any) -> int:
        try:
            result: int = future.result(self.backend.conf.raft.commit_timeout)
        except Exception:
            return -1
        return result

    def _wait_voters(self, address: str, present: bool) -> list[str]:
        deadline = monotonic() + 5.0
        while monotonic() < deadline:
            voters: list[str] = self.backend.runner.status()['voters']
            if (address in voters) == present:
                return voters
            self._loop.sleep(0.05)
        raise exception.SodosError(
            'the leader did not %s %s'
            % ('add' if present else 'remove', address)
        )

    def _wait_counted(self, address: str) -> None:
        """Wait until the new voter is connected and caught up."""
        deadline = monotonic() + COUNTED_TIMEOUT
        while monotonic() < deadline and not self._loop.stopping:
            status = self.backend.runner.status()
            match = status['match_index'].get(address, 0)
            if address in status['connected'] and (
                match >= status['commit_index'] - 1
            ):
                return
            self._loop.sleep(0.05)
        raise exception.SodosError(
            'new voter %s has not caught up after %.0f s'
            % (address, COUNTED_TIMEOUT)
        )


class _Lock:
    """The replicated membership lock, as a context manager."""

    def __init__(self, controller: Controller, description: str) -> None:
        self.controller = controller
        self.description = description
        self.change_id = uuid.uuid4().hex

    def __enter__(self) -> _Lock:
        backend = self.controller.backend
        result = backend.propose(
            'membership.lock',
            {
                'change_id': self.change_id,
                'owner': backend.site,
                'description': self.description,
                'ttl': LOCK_TTL,
            },
        )
        if not result.get('granted'):
            holder = result.get('holder') or {}
            raise exception.SodosError(
                'membership change %r waits: %s is changing membership (%s)'
                % (
                    self.description,
                    holder.get('owner'),
                    holder.get('description'),
                )
            )
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.controller.backend.propose(
                'membership.unlock', {'change_id': self.change_id}
            )
        except exception.SodosError as exc:
            # The next cycle of this leader may take it over (same term);
            # another leader takes it after its TTL.
            LOG.warning('membership: could not release the lock: %s', exc)
