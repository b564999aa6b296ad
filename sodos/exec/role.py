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

"""Exec: the only role that talks to the site's OpenStack.

Three loops share one driver (``[exec]driver``):

* the role's cycle carries out the actions the KB assigns to this site
  (sodos.exec.executor) and, now and then, reconciles the site's sodos
  servers with the KB's placements (sodos.exec.reconcile);
* the monitor collects the site summary every ``[exec]monitor_interval``
  (sooner when Nova notifies a change) and reports it to KnowMon;
* the notification listener, when ``[exec]notifications_url`` is set.

Beside them the image relay (sodos.exec.images.relay, ``[image_relay]``)
serves this site's images to the other sites' Exec, and the catalog loop
(sodos.exec.catalog.sync) publishes the site's Keystone catalog and, if
asked, lists the other sites' endpoints in it.

Fencing: Exec acts only while its KnowMon is in contact with a quorum. A
site cut off does nothing: the federation may be re-placing its members
elsewhere. When it is back it reconciles before anything else, so that
what was re-placed is deleted here and no member runs twice. "Back" is
seen three ways: KnowMon reported no quorum, the federation marked the
site down and up again meanwhile, or the cycle itself was stalled longer
than ``[knowmon]site_down_timeout`` (a frozen process sees no quorum
loss at all).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import periodic
from sodos import roles
from sodos.conf import image_relay as relay_conf
from sodos.exec import actions
from sodos.exec import executor
from sodos.exec import monitor
from sodos.exec import reconcile
from sodos.exec.catalog import sync as catalog_sync
from sodos.exec.drivers import base as exec_driver
from sodos.exec.identity import keys as identity_keys
from sodos.exec.identity import sync as identity_sync
from sodos.exec.images import relay as image_relay
from sodos.exec.networks import attach as networks_attach
from sodos.kb import shapes
from sodos.knowmon.rpcapi import KnowMonClient

LOG = log.getLogger(__name__)
# Seconds before a site summary the KB did not take is sent again.
REPORT_RETRY = 5.0
# Seconds the KB may publish another relay URL before Exec warns.
RELAY_URL_GRACE = 60.0


class ExecRole(roles.Role):
    name = 'exec'

    def __init__(
        self, conf: cfg.ConfigOpts, knowmon: KnowMonClient | None
    ) -> None:
        super().__init__(conf, knowmon)
        self.driver = exec_driver.load(conf)
        self._stop = threading.Event()
        self.monitor = periodic.Periodic(
            'exec-monitor', self.monitor_once, self._monitor_interval
        )
        self.executor = executor.Executor(
            conf,
            self.driver,
            self.knowmon_api,
            self._stop,
            on_outcome=self.monitor.wake,
        )
        self._listener: Any = None
        # The identity loop ([identity]mode), beside the cycle.
        self.identity = identity_sync.make(
            conf, self.driver, lambda: self.knowmon_api
        )
        # Shared fernet keys and revocation events ([identity]mode = shared).
        self.identity_keys = identity_keys.make(
            conf, self.driver, lambda: self.knowmon_api
        )
        # The catalog loop (sodos.exec.catalog.sync), beside it too.
        self.catalog = catalog_sync.make(
            conf, self.driver, lambda: self.knowmon_api
        )
        self.relay: image_relay.Relay | None = None
        self._relay_url_checked = False
        self._relay_mismatch_since: float | None = None
        if relay_conf.usable(conf):
            self.relay = image_relay.Relay(conf, self.driver)
        elif conf.image_relay.enabled:
            LOG.warning(
                'exec: no image relay: [raft]password is not set, and the '
                'relay signs its URLs with it; this site cannot be the '
                'source of an image copy'
            )
        # Reconcile before the first action, as after any cut-off.
        self._must_reconcile = 'start'
        self._last_reconcile = 0.0
        self._last_cycle_end = time.monotonic()
        self._site_changed_at: Any = None
        self.last_summary: dict[str, Any] | None = None
        self._report_failed = False
        self.reconciled: list[str] = []

    def _monitor_interval(self) -> float:
        interval = float(self.conf.exec.monitor_interval)
        if self._report_failed:
            # A report the KB did not take (site not registered yet, no
            # quorum) is tried again soon, not a whole interval later.
            return min(interval, REPORT_RETRY)
        return interval

    def start(self) -> None:
        if self.relay is not None:
            self.relay.start()
        self.monitor.start()
        if self.identity is not None:
            self.identity.start()
        if self.identity_keys is not None:
            self.identity_keys.start()
        if self.catalog is not None:
            self.catalog.start()
        if self.conf.exec.notifications_url:
            # Only then the message bus's library (~25 MB).
            from sodos.exec.servers import notifications

            self._listener = notifications.listener(self.conf, self._notified)
        if self._listener is not None:
            self._listener.start()
        super().start()

    def stop(self) -> None:
        self._stop.set()
        super().stop()
        self.monitor.stop()
        if self.identity is not None:
            self.identity.stop()
        if self.identity_keys is not None:
            self.identity_keys.stop()
        if self.catalog is not None:
            self.catalog.stop()
        if self._listener is not None:
            self._listener.stop()
        if self.relay is not None:
            self.relay.stop()
        self.executor.close()
        self.driver.close()

    def _notified(self, what: str) -> None:
        LOG.debug('exec: notified of %s: collecting now', what)
        self.monitor.wake()

    # -- monitoring --------------------------------------------------------

    def monitor_once(self) -> dict[str, Any]:
        summary = monitor.collect(self.driver)
        self.last_summary = summary
        try:
            result = self.knowmon_api.report(summary)
        except exception.SodosError as exc:
            result = {'ok': False, 'error': str(exc)}
        self._report_failed = not result.get('ok')
        if self._report_failed:
            LOG.warning(
                'exec: site summary not reported: %s; trying again in %.0f s',
                result.get('error'),
                self._monitor_interval(),
            )
        elif result.get('committed'):
            LOG.info('exec: site summary committed (%s)', result['reason'])
        return result

    # -- the decision cycle ------------------------------------------------

    def applied(self, wire: dict[str, Any], result: dict[str, Any]) -> None:
        super().applied(wire, result)
        # A change of the federation's identity reaches this site's
        # Keystone now, not after up to [identity]sync_interval.
        if self.identity is not None and self.identity.wakes_for(wire, result):
            self.identity.wake()

    def wakes_for(self, wire: dict[str, Any]) -> bool:
        """New actions for this site: start them now."""
        if wire.get('type') != 'plan.apply':
            return False
        site = self.conf.site_name
        actions = (wire.get('args') or {}).get('actions') or ()
        return any(a.get('site') == site for a in actions)

    def cycle(self) -> str:
        now = time.monotonic()
        # The time between the end of the last cycle and this start: the
        # process was frozen (or starved) that long, and the federation
        # may have moved its members meanwhile. A cycle that is merely
        # slow (a site API answering in 15 s) is no stall: the loop
        # waits its interval after each cycle ends.
        idle = now - self._last_cycle_end
        if idle > self.conf.knowmon.site_down_timeout + self.interval():
            self._must_reconcile = 'stalled %.0f s' % idle
        try:
            return self._cycle(now)
        finally:
            self._last_cycle_end = time.monotonic()

    def _cycle(self, now: float) -> str:
        try:
            in_quorum = self.knowmon_api.in_quorum()
        except exception.SodosError as exc:
            self._must_reconcile = 'KnowMon was unreachable'
            return 'exec: fenced (%s), not acting' % exc
        if not in_quorum:
            self._must_reconcile = 'quorum was lost'
            return 'exec: fenced (no quorum), not acting'
        self._watch_own_status()
        parts = []
        interval = self.conf.exec.reconcile_interval
        if not self._must_reconcile and now - self._last_reconcile > interval:
            self._must_reconcile = 'periodic'
        if self._must_reconcile:
            parts.append('reconcile (%s): %s' % self._reconcile())
        # Even when the reconcile had to wait (its barrier not committed,
        # the site's API down): an action claims itself with a committed
        # update and then checks its placement, so it needs no reconcile
        # to be safe, and a reconcile that waits must not hold it up.
        parts.append('actions: %s' % self.executor.step(self._mine('actions')))
        return 'exec: in quorum; %s' % '; '.join(parts)

    def _mine(self, section: str) -> dict[str, Any]:
        """What the KB holds about this site in ``section``."""
        found: dict[str, Any] = self.knowmon_api.read(
            section, site=self.conf.site_name
        )
        return found

    def _read(self, section: str, key: str | None) -> dict[str, Any]:
        found: dict[str, Any] = self.knowmon_api.read(section, key=key)
        return found

    def _watch_own_status(self) -> None:
        """Reconcile if the federation marked this site down meanwhile."""
        site = self._mine('sites').get(self.conf.site_name, {})
        changed_at = site.get('status_changed_at')
        if self._site_changed_at not in (None, changed_at):
            self._must_reconcile = 'site status changed'
            LOG.info(
                'exec: the federation now has this site %s (%s)',
                site.get('status', 'unknown'),
                site.get('reason') or 'no reason given',
            )
        self._site_changed_at = changed_at
        self._check_relay_url(site)

    def _check_relay_url(self, site: dict[str, Any]) -> None:
        """Warn once if the KB keeps publishing another relay URL.

        Right after a restart the KB may still hold the last run's URL
        until this site registers again: only a lasting mismatch counts.
        """
        if self.relay is None or self._relay_url_checked:
            return
        profile = shapes.profile(site)
        published = profile.get('image_relay')
        if published == self.relay.url:
            self._relay_url_checked = True
            return
        now = time.monotonic()
        if self._relay_mismatch_since is None:
            self._relay_mismatch_since = now
        if now - self._relay_mismatch_since < RELAY_URL_GRACE:
            return
        self._relay_url_checked = True
        LOG.warning(
            "exec: the KB publishes %s as this site's image relay, but it "
            'is at %s: other sites cannot copy images from here. Set '
            '[image_relay]bind_port (or public_url) when sodos-exec and '
            'sodos-knowmon run in separate processes.',
            published,
            self.relay.url,
        )

    def _reconcile(self) -> tuple[str, str]:
        why = self._must_reconcile
        summary = monitor.collect(self.driver)
        self.last_summary = summary
        if not summary['api']['ok']:
            return why, 'postponed: site API down: %s' % (
                summary['api']['error']
            )
        # A committed report proves contact with the quorum and that this
        # member applied the log up to it: the placements read next are
        # the federation's current ones, not what this site knew before.
        barrier = self.knowmon_api.report(summary, force=True)
        if not barrier.get('ok'):
            return why, 'postponed: %s' % barrier.get('error')
        placements = self._mine('placements')
        busy = self._busy_members(self._mine('actions'))
        current = self.driver.list_servers()
        active_images = {
            image_id
            for image_id, image in (summary.get('image_details') or {}).items()
            if image.get('status') == 'active'
        }
        todo = reconcile.plan(
            self.conf.site_name, current, placements, busy, active_images
        )
        for server, reason in todo.delete:
            LOG.warning(
                'exec: reconcile: deleting %s server %s (%s)',
                reason,
                server.id,
                server.key,
            )
            self.driver.delete(server.id)
        for params in todo.create:
            LOG.warning(
                'exec: reconcile: rebuilding missing member %s/%s',
                params['appliance_id'],
                params['member'],
            )
            self.executor.run_direct(
                actions.CreateServer.kind, params, uuid.uuid4().hex
            )
        if not todo and not busy:
            # What a delete cut short left behind, or what stale
            # servers held until they were gone.
            networks_attach.release(
                self._read,
                self.driver,
                self.conf.site_name,
                self.conf.exec.servers_in_owner_project,
            )
        self._must_reconcile = ''
        self._last_reconcile = time.monotonic()
        self.reconciled.append(todo.describe())
        if todo:
            self.monitor.wake()
        return why, todo.describe()

    def _busy_members(self, kb_actions: dict[str, Any]) -> set[str]:
        busy = set(self.executor.busy_members())
        for action in kb_actions.values():
            params = action.get('params') or {}
            if (
                action['site'] == self.conf.site_name
                and action['state'] in ('pending', 'running')
                and 'appliance_id' in params
                and 'member' in params
            ):
                busy.add(
                    exec_driver.member_key(
                        params['appliance_id'], params['member']
                    )
                )
        return busy
