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

"""AnalysePlan: placement and re-placement, active beside the leader only.

Every site runs it; only the one whose KnowMon is the Raft leader plans,
the others stand by and take over at the next election. A deposed leader
may believe it leads for a while: the plans it writes carry its term and
the KB refuses stale ones, so "am I leader" here is a hint, not a lock.

Each cycle reads the whole KB once, plans (sodos.analyseplan.planner),
and commits the plan as ``plan.apply`` entries: new placements with the
actions that build them, removals with the actions that delete them.
Then the follow-ups: old servers of finished moves deleted, transient
build failures retried, creates held for an image released once it has
arrived, drained sites marked drained, an alert per member that cannot
be placed (closed once it is), and the guests reclaimed for their host
recorded and told (sodos.analyseplan.notices). Last, the image copies
and deletions (sodos.analyseplan.images). A cycle's commands are
committed together at its end, in that order.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import instruments
from sodos import roles
from sodos.kb import commands
from sodos.kb import shapes
from sodos.knowmon import overload
from sodos.knowmon.rpcapi import KnowMonClient

if TYPE_CHECKING:
    from sodos.analyseplan import planner as planner_mod
    from sodos.analyseplan import prestage
    from sodos.analyseplan import specs

LOG = log.getLogger(__name__)
# A cycle slower than this (seconds) says where its time went.
SLOW_CYCLE = 2.0
# Alert ids are derived from what they are about, so that every leader
# raises (and closes) the same alert for the same member.
ALERT_NAMESPACE = uuid.UUID('5d1f3c1e-7f0b-4e0e-9a51-0c2f4a8e6b31')


# What changes the plan: a site going down or coming back (disaster
# recovery starts here), appliances, maintenance, overloads.
WAKING_COMMANDS = frozenset(
    (
        'site.status',
        'site.register',
        'site.leave',
        'site.maintenance',
        'appliance.put',
        'appliance.update',
        'appliance.delete',
        'policy.set',
    )
)


def unplaced_alert_id(key: str) -> str:
    return uuid.uuid5(ALERT_NAMESPACE, 'unplaced:' + key).hex


class AnalysePlanRole(roles.Role):
    name = 'analyseplan'

    def __init__(
        self, conf: cfg.ConfigOpts, knowmon: KnowMonClient | None
    ) -> None:
        super().__init__(conf, knowmon)
        self.last_plan: planner_mod.Plan | None = None
        self._outbox: list[commands.Command] = []
        self._prestager: prestage.Prestager | None = None
        # The sites down at the last plan: see _fresh_failure.
        self._down: set[str] = set()
        # The specs this member's earlier plans validated: from one
        # cycle to the next only changed ones are validated again.
        self._spec_cache: specs.SpecCache | None = None

    # The planner (the scheduling code, ~3 MB) is imported by
    # the leader's first plan: every other site's AnalysePlan only waits.

    @property
    def prestager(self) -> prestage.Prestager:
        if self._prestager is None:
            from sodos.analyseplan import prestage

            self._prestager = prestage.Prestager()
        return self._prestager

    def _fresh_failure(self, kb: dict[str, Any]) -> bool:
        """Whether a site went down since the last plan.

        That plan is greedy alone: the members the failed sites held are
        placed again at once, and the exact repair (seconds under load)
        takes what greedy leaves out at the next cycle, the failure then
        no longer fresh.
        """
        down = {
            name
            for name, site in (kb.get('sites') or {}).items()
            if site.get('status') == 'down'
        }
        fresh = bool(down - self._down)
        self._down = down
        return fresh

    def wakes_for(self, wire: dict[str, Any]) -> bool:
        kind = wire.get('type')
        if kind == 'alert.raise':
            args = wire.get('args') or {}
            return args.get('kind') == overload.KIND
        return kind in WAKING_COMMANDS

    def cycle(self) -> str:
        api = self.knowmon_api
        status = api.status()
        if not status['is_leader']:
            return 'analyseplan: standby, leader is %s (term %d)' % (
                status['leader_site'] or status['leader'] or 'unknown',
                status['term'],
            )
        term = status['term']
        began = time.monotonic()
        kb = api.read()
        read_s = time.monotonic() - began
        policy = kb.get('policy') or {}
        if policy.get('paused'):
            return (
                'analyseplan: active (leader, term %d): paused by '
                'policy, not planning' % term
            )
        from sodos.analyseplan import images
        from sodos.analyseplan import orders
        from sodos.analyseplan import planner as planner_mod
        from sodos.analyseplan import specs

        if self._spec_cache is None:
            self._spec_cache = specs.SpecCache()
        planner = planner_mod.from_conf(
            self.conf,
            consolidate=bool(policy.get('consolidate')),
            repair=not self._fresh_failure(kb),
            cache=self._spec_cache,
        )
        knowmon = self.conf.knowmon
        plan = planner.plan(
            kb,
            overloaded=overload.targets(
                kb.get('alerts', {}),
                knowmon.overload_threshold - knowmon.overload_hysteresis,
            ),
            consolidate=(
                self.conf.analyseplan.carbon_price
                if policy.get('consolidate')
                else None
            ),
            now=time.time(),
        )
        self.last_plan = plan
        # What this cycle decides is committed at its end, all at once:
        # one replication round rather than one per command.
        self._outbox = []
        planned = orders.from_plan(plan, kb)
        for args in planned:
            self._queue('plan.apply', args, term)
        followups = orders.cleanups(
            kb, self.conf.analyseplan.retry_after, time.time()
        ) + orders.releases(kb)
        if followups:
            for args in orders.chunks([], [], followups):
                self._queue('plan.apply', args, term)
        images_line = self._images(
            images.with_orders(kb, planned), planner, term
        )
        self._drained(kb, plan)
        self._alerts(kb, plan)
        from sodos.analyseplan import notices

        for type_, args in notices.commands(kb, plan):
            # The reclaims' record is leader-only: it carries the term.
            self._queue(
                type_, args, term if type_ == 'owner.reclaim' else None
            )
        from sodos.analyseplan import usage

        recorded = usage.update(kb, time.time())
        if recorded is not None:
            self._queue('owner.usage', recorded, term)
        decided = time.monotonic()
        failed = self._commit_queued()
        if not failed:
            _observe_recoveries(kb.get('sites') or {}, plan, time.time())
        took = time.monotonic() - began
        if took > SLOW_CYCLE:
            LOG.info(
                'analyseplan: the cycle took %.1f s: reading the KB %.1f s, '
                'planning %.1f s, committing %.1f s',
                took,
                read_s,
                decided - began - read_s,
                time.monotonic() - decided,
            )
        line = 'analyseplan: active (leader, term %d): %d appliance(s), %s' % (
            term,
            len(kb.get('appliances', {})),
            plan.summary(),
        )
        if followups:
            line += ', %d follow-up action(s)' % len(followups)
        if images_line:
            line += ', ' + images_line
        if recorded is not None:
            line += ", %d owner(s)' usage recorded" % len(recorded['usage'])
        for unplaced in plan.unplaced[:3]:
            line += '; %s: %s' % (unplaced.key, unplaced.reason)
        if failed:
            line += '; NOT APPLIED: %s' % '; '.join(failed)
        return line

    def _queue(
        self, type_: str, args: dict[str, Any], term: int | None
    ) -> None:
        """A command for the end of the cycle (:meth:`_commit_queued`)."""
        self._outbox.append(
            commands.make(type_, args, self.conf.site_name, term=term)
        )

    def _commit_queued(self) -> list[str]:
        """Commit the cycle's commands together; what went wrong."""
        queued, self._outbox = self._outbox, []
        if not queued:
            return []
        try:
            results = self.knowmon_api.submit_many(
                [command.to_wire() for command in queued]
            )
        except exception.SodosError as exc:
            return ['%d command(s): %s' % (len(queued), exc)]
        return [
            '%s: %s' % (command.type, result.get('error'))
            for command, result in zip(queued, results, strict=True)
            if not result.get('ok')
        ]

    def _images(
        self,
        kb: dict[str, Any],
        planner: planner_mod.Planner,
        term: int,
    ) -> str:
        """Image copies, deletions, failed sites and their alerts."""
        from sodos.analyseplan import images
        from sodos.analyseplan import orders

        opts = self.conf.analyseplan
        decision = images.schedule(
            kb,
            opts.image_uploads_per_source,
            opts.retry_after,
            time.time(),
            self.prestager.sites(
                planner, kb, opts.image_prestage_sites, time.time()
            ),
        )
        for args in orders.chunks([], [], decision.actions):
            self._queue('plan.apply', args, term)
        for image_id, site, reason in decision.failed:
            self._queue(
                'image.site_failed',
                {'image_id': image_id, 'site': site, 'reason': reason},
                None,
            )
            args = images.failed_alert(kb['images'][image_id], site, reason)
            self._queue('alert.raise', args, None)
        for image_id in decision.purge:
            self._queue('image.purge', {'image_id': image_id}, None)
        raise_, close = images.alerts(kb)
        for args in raise_:
            self._queue('alert.raise', args, None)
        for alert_id in close:
            self._queue(
                'alert.close', {'alert_id': alert_id, 'reason': 'gone'}, None
            )
        return decision.summary()

    def _drained(self, kb: dict[str, Any], plan: planner_mod.Plan) -> None:
        """Mark draining sites drained once nothing of sodos is left."""
        placements = kb.get('placements', {})
        monitoring = kb.get('monitoring', {})
        moving_off = {m.from_site for m in plan.moves}
        for name, site in sorted(kb.get('sites', {}).items()):
            if site.get('maintenance') != 'draining' or name in moving_off:
                continue
            if any(p['site'] == name for p in placements.values()):
                continue
            if shapes.servers(shapes.summary(monitoring, name)):
                continue
            self._queue(
                'site.maintenance',
                {'site': name, 'state': 'drained', 'reason': 'emptied'},
                None,
            )

    def _alerts(self, kb: dict[str, Any], plan: planner_mod.Plan) -> None:
        alerts = kb.get('alerts', {})
        unplaced_ids = set()
        for unplaced in plan.unplaced:
            alert_id = unplaced_alert_id(unplaced.key)
            unplaced_ids.add(alert_id)
            message = (
                'member %s cannot be placed: %s'
                % (unplaced.key, unplaced.reason)
            )[:1024]
            if (alerts.get(alert_id) or {}).get('message') == message:
                continue
            # New, or its reason changed: raising it again tells the
            # reason of now (the KB keeps the alert and when it was raised).
            self._queue(
                'alert.raise',
                {
                    'alert_id': alert_id,
                    'site': unplaced.from_site or self.conf.site_name,
                    'kind': 'unplaced',
                    'severity': 'critical'
                    if unplaced.from_site
                    else 'warning',
                    'message': message,
                },
                None,
            )
        for alert_id, alert in sorted(alerts.items()):
            if (
                alert.get('kind') == 'unplaced'
                and alert_id not in unplaced_ids
            ):
                self._queue(
                    'alert.close',
                    {'alert_id': alert_id, 'reason': 'placed'},
                    None,
                )


def _observe_recoveries(
    sites: dict[str, Any], plan: planner_mod.Plan, now: float
) -> None:
    """How long the members of a down site waited for their new place:
    from the site's down transition to this committed plan."""
    for move in plan.moves:
        site = sites.get(move.from_site or '') or {}
        changed_at = site.get('status_changed_at')
        if site.get('status') == 'down' and changed_at is not None:
            instruments.RECOVERY_SECONDS.observe(max(0.0, now - changed_at))
