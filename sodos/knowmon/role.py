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

"""KnowMon: this site's member of the Knowledge Base, and the monitor.

It holds the state backend, serves the KnowMon API to the other roles, and
beside the Raft leader it turns the leader's liveness view into site
status transitions in the KB.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from oslo_config import cfg

from sodos import instruments
from sodos import periodic
from sodos import roles
from sodos.kb import backend as kb_backend
from sodos.knowmon import divergence
from sodos.knowmon import fernet_rotation
from sodos.knowmon import history
from sodos.knowmon import liveness
from sodos.knowmon import manager
from sodos.knowmon import overload
from sodos.knowmon import rpcapi
from sodos.knowmon import sitedown
from sodos.knowmon.gossip import detector as gossip_detector
from sodos.knowmon.gossip import transport as gossip_transport

LOG = logging.getLogger(__name__)
# Seconds between two looks for ended actions to prune: each reads every
# action, and the retention is an hour by default (a minute at least).
PRUNE_EVERY = 60.0


class KnowMonRole(roles.Role):
    name = 'knowmon'
    provides_knowmon = True

    def __init__(
        self, conf: cfg.ConfigOpts, knowmon: rpcapi.KnowMonClient | None = None
    ) -> None:
        super().__init__(conf, None)
        self.backend = kb_backend.load(conf, conf.knowmon.state_backend)
        self.manager = manager.KnowMonManager(self.backend, conf)
        self.api = manager.LocalKnowMonAPI(self.manager)
        self._rpc: Any = None
        self.history = history.HistoryRecorder(conf)
        # Shared fernet keys and revocations, beside the leader.
        self.fernet = fernet_rotation.FernetRotation(conf, self.backend)
        self._history_loop = periodic.Periodic(
            'history', self._record_history, self._history_interval
        )
        self._prune_looked_at = float('-inf')
        # Sites' statuses at the last leader cycle (returns are said once).
        self._statuses: dict[str, str] = {}
        # With the gossip detector, this site's view of every member.
        self.gossip: gossip_transport.Endpoint | None = None
        self._stand_when_leader_dies = conf.knowmon.gossip_leader_election
        if conf.knowmon.failure_detector == 'gossip':
            self.gossip = gossip_detector.endpoint(
                conf, self.backend, self._gossip_dead
            )

    def _gossip_dead(self, names: set[str]) -> None:
        """From the gossip's thread, members newly confirmed dead.

        The leader runs its cycle now rather than at the end of
        [knowmon]loop_interval, so the sites are marked down as soon as
        the gossip knows. A voter told that its leader died stands for
        election now (sodos.kb.raft.election), when asked for."""
        status = self.backend.status()
        if status.is_leader:
            self.loop.wake()
        elif self._stand_when_leader_dies and status.leader_site in names:
            self.backend.leader_confirmed_dead(status.leader_site)

    def local_backend(self) -> kb_backend.StateBackend:
        return self.backend

    def local_api(self) -> rpcapi.KnowMonClient:
        return self.api

    def start(self) -> None:
        self.backend.start()
        try:
            if self.gossip is not None:
                self.gossip.start()
            # Served even beside the other roles: the site's API service
            # and one-off tools in other processes read the KB this way.
            if self.conf.knowmon.serve_rpc:
                from sodos import rpc

                self._rpc = rpc.BackgroundServer(
                    rpc.server(
                        self.conf, self.conf.knowmon.rpc_topic, [self.manager]
                    )
                )
                self._rpc.start()
            super().start()
            self._history_loop.start()
        except BaseException:
            if self.gossip is not None:
                self.gossip.stop()
            self.backend.stop()
            raise

    def stop(self) -> None:
        self._history_loop.stop()
        super().stop()
        if self._rpc is not None:
            self._rpc.stop()
            self._rpc = None
        if self.gossip is not None:
            self.gossip.stop()
        # A clean stop leaves the member's state on disk to restart from.
        self.backend.stop()

    def cycle(self) -> str:
        status = self.backend.status()
        if not status.ready:
            return 'knowmon: %s, not caught up with a leader yet' % (
                status.role
            )
        if not status.is_leader:
            return 'knowmon: %s, leader %s (term %d), %s' % (
                status.role,
                status.leader_site or status.leader or 'unknown',
                status.term,
                'in quorum' if status.has_quorum else 'NO QUORUM',
            )
        heard = self.backend.liveness()
        changes = self._transitions(heard)
        done = self._commit(changes, heard)
        done.extend(self._returns(changes))
        done.extend(self._site_downs())
        done.extend(self._overloads())
        done.extend(self._divergences())
        done.extend(self._prune_actions())
        done.extend(self.fernet.step())
        sites = self.backend.read('sites')
        return 'knowmon: leader (term %d), %d sites up, %d down, %s' % (
            status.term,
            _count(sites, 'up'),
            _count(sites, 'down'),
            '; '.join(done) or 'no change',
        )

    def _history_interval(self) -> float:
        # 0 turns the history off; look again now and then in case a
        # reload turns it on.
        return self.conf.knowmon.history_interval or 60.0

    def _record_history(self) -> None:
        if not self.conf.knowmon.history_interval:
            return
        if not self.backend.status().ready:
            return
        counts = self.history.record(self.backend.read)
        if any(counts.values()):
            LOG.info(
                'history: recorded %(actions)d actions, %(alerts)d closed '
                'alerts, %(samples)d monitoring samples, %(usage)d usage '
                'rows',
                counts,
            )

    def _prune_actions(self) -> list[str]:
        now = time.monotonic()
        if now - self._prune_looked_at < PRUNE_EVERY:
            return []
        self._prune_looked_at = now
        cutoff = history.prune_before(
            self.backend.read('actions'),
            time.time(),
            self.conf.knowmon.action_retention,
        )
        if cutoff is None:
            return []
        result = self.backend.propose(
            'action.prune', {'ended_before': cutoff}, check=False
        )
        if not result.get('ok'):
            return ['could not prune actions: %s' % result.get('error')]
        return ['pruned %d ended actions' % result.get('pruned', 0)]

    def _site_downs(self) -> list[str]:
        to_raise, to_close = sitedown.changes(
            self.backend.read('sites'), self.backend.read('alerts')
        )
        return self._alerts(to_raise, to_close, 'the site is no longer down')

    def _overloads(self) -> list[str]:
        knowmon = self.conf.knowmon
        to_raise, to_close = overload.changes(
            self.backend.read('monitoring'),
            self.backend.read('sites'),
            self.backend.read('alerts'),
            knowmon.overload_threshold,
            knowmon.overload_hysteresis,
        )
        return self._alerts(to_raise, to_close, 'back under the threshold')

    def _divergences(self) -> list[str]:
        table = getattr(self.backend, 'heartbeats', None)
        if table is None:
            # A backend without heartbeats (the in-memory one) has one
            # copy of the KB: nothing can diverge.
            return []
        heard = set(table.last_seen())
        alerts = self.backend.read('alerts')
        done = []
        for verdict, why in (
            ('diverged', 'agrees with the leader again'),
            ('behind', "applies the leader's log again"),
        ):
            to_raise, to_close = divergence.changes(
                table.marked(verdict), heard, alerts, verdict
            )
            done.extend(self._alerts(to_raise, to_close, why))
        return done

    def _alerts(
        self, to_raise: list[dict[str, Any]], to_close: list[str], why: str
    ) -> list[str]:
        batch = [('alert.raise', args) for args in to_raise] + [
            ('alert.close', {'alert_id': aid, 'reason': why})
            for aid in to_close
        ]
        done = []
        for (type_, args), result in zip(
            batch, self.backend.propose_many(batch), strict=True
        ):
            if type_ == 'alert.close':
                done.append(
                    'alert %s closed: %s' % (args['alert_id'][:8], why)
                )
            elif result.get('ok'):
                done.append('raised: %s' % args['message'])
            else:
                done.append(
                    'could not raise an alert: %s' % result.get('error')
                )
        return done

    def _transitions(
        self, heard: dict[str, float]
    ) -> list[liveness.Transition]:
        if self.gossip is not None:
            sites = self.backend.read('sites')
            # What the sites registered outranks the verdicts on their
            # earlier processes, before the view is judged.
            self.gossip.vouch(liveness.registered_incarnations(sites))
            return liveness.gossip_transitions(
                sites, self.gossip.view(), self.backend.site
            )
        return liveness.transitions(
            self.backend.read('sites'),
            heard,
            self.conf.knowmon.site_down_timeout,
            self.backend.site,
        )

    def _returns(self, changes: list[liveness.Transition]) -> list[str]:
        """Sites back up that this cycle did not mark up itself: they
        registered again after a restart. Said once, in the cycle's line
        (the role logs it at INFO)."""
        sites = self.backend.read('sites')
        marked = {c.site for c in changes if c.status == 'up'}
        said = [
            '%s is up again (%s)' % (back.site, back.reason)
            for back in liveness.returns(self._statuses, sites)
            if back.site not in marked
        ]
        self._statuses = liveness.statuses(sites)
        return said

    def _commit(
        self, changes: list[liveness.Transition], heard: dict[str, float]
    ) -> list[str]:
        """Commit the transitions together (one replication round: a
        regional outage is marked down at once, not site after site)."""
        results = self.backend.propose_many(
            [
                (
                    'site.status',
                    {
                        'site': change.site,
                        'status': change.status,
                        'reason': change.reason,
                    },
                )
                for change in changes
            ]
        )
        for change, result in zip(changes, results, strict=True):
            if change.status == 'down' and result.get('changed'):
                # The silence the leader saw when it decided: how long
                # the federation went on believing a dead site alive.
                instruments.FAILURE_DETECTION_SECONDS.observe(
                    heard.get(change.site, 0.0)
                )
        return [
            _said(change, result)
            for change, result in zip(changes, results, strict=True)
        ]


def _said(change: liveness.Transition, result: dict[str, Any]) -> str:
    target = '%s %s' % (change.site, change.status)
    if result.get('timeout'):
        return 'failed to mark %s: %s' % (target, result.get('error'))
    if not result.get('ok'):
        return 'refused to mark %s: %s' % (target, result.get('error'))
    if not result.get('changed'):
        return '%s already' % target
    return 'marked %s (%s)' % (target, change.reason)


def _count(sites: dict[str, dict[str, Any]], status: str) -> int:
    return sum(1 for site in sites.values() if site.get('status') == status)
