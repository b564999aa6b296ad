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

"""Exec's catalog loop: the federated catalog.

Two jobs, both through the driver's catalog store
(:class:`sodos.exec.catalog.plan.CatalogStore`):

* publish: every :data:`GATHER_INTERVAL` seconds Exec reads its site's
  Keystone catalog and, only when it differs from what the KB holds for
  the site, commits it (``site.catalog``). A catalog rarely changes, so
  it is not part of the monitoring summary, which is committed far more
  often;
* list the others: with ``[identity]publish_remote_endpoints`` (on by
  default in ``[identity]mode = shared``, where one token works at every
  site), Exec makes its Keystone list every other site's regions and
  public endpoints, so that ``openstack --os-region-name OTHER ...``
  and Glance's ``glance-download`` find them. It looks again whenever
  the KB's catalogs or the sites change, and every
  ``[identity]audit_interval`` to repair hand edits. Off (or without
  ``[site_auth]region_name`` for a real Keystone), it removes the regions
  it made, if any, each time it reads its own catalog.

Like every Exec action, the loop acts only while the site's KnowMon is
in contact with a quorum (fencing).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import periodic
from sodos.exec.catalog import plan as catalog_plan
from sodos.knowmon import rpcapi

if TYPE_CHECKING:
    from sodos.exec.drivers import base as exec_driver

LOG = log.getLogger(__name__)
# Seconds between two looks at the KB: [exec]monitor_interval, kept
# within these bounds (each look with publishing on reads every site's
# catalog).
LOOK_INTERVAL = 10.0
MIN_LOOK_INTERVAL = 2.0
# Seconds before a catalog the KB did not take (site not registered
# yet, no quorum) is sent again.
RETRY_INTERVAL = 2.0
# Seconds between two reads of the site's own catalog.
GATHER_INTERVAL = 60.0
# Seconds before a failed sync of the other sites' endpoints is tried
# again when nothing changed meanwhile.
REMOTE_RETRY = 60.0
DRIVER_ERRORS = (exception.TransientError, exception.PermanentError)


def publish_remote(conf: cfg.ConfigOpts) -> bool:
    """``[identity]publish_remote_endpoints``, its default resolved."""
    value = conf.identity.publish_remote_endpoints
    if value is None:
        return bool(conf.identity.mode == 'shared')
    return bool(value)


def make(
    conf: cfg.ConfigOpts,
    site_driver: exec_driver.Driver,
    knowmon: Callable[[], rpcapi.KnowMonClient],
) -> CatalogSync | None:
    """The catalog loop of the driver's catalog store; None if the
    driver has none."""
    store = site_driver.catalog_store()
    if store is None:
        LOG.info(
            "catalog: the %s Exec driver has no catalog store: this site's "
            'catalog is not published',
            conf.exec.driver,
        )
        return None
    return CatalogSync(conf, store, knowmon)


def remove_all(store: catalog_plan.CatalogStore) -> list[str]:
    """Delete every region sodos made in ``store``, and its endpoints.

    For a Keystone whose site no longer runs sodos (an operator's clean
    up, a test's); a running Exec does it by itself once
    ``[identity]publish_remote_endpoints`` is off. Returns what it did.
    """
    ops, _ = catalog_plan.plan(catalog_plan.Desired(), store.snapshot())
    for op in ops:
        op.apply(store)
    return [op.text for op in ops]


class CatalogSync:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        store: catalog_plan.CatalogStore,
        knowmon: Callable[[], rpcapi.KnowMonClient],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conf = conf
        self.site = conf.site_name
        self.store = store
        self.refused = ''
        if store.region_required and not conf.site_auth.region_name:
            # Exec's clients would take the first region the Keystone
            # lists, which could be another site's.
            self.refused = (
                'not listing the other sites in this Keystone: '
                '[site_auth]region_name is not set, and Exec would then use '
                "the first region's services, maybe another site's"
            )
        self._knowmon = knowmon
        self._clock = clock
        self.periodic = periodic.Periodic(
            'exec-catalog', self.run_once, self.interval
        )
        self._gathered_at: float | None = None
        # A catalog read but not committed yet: sent again soon, without
        # reading the Keystone again.
        self._unpublished: list[dict[str, str]] | None = None
        # The KB state the remote endpoints were last brought in line
        # with (catalog_plan.fingerprint), and when.
        self._remote_seen: str | None = None
        self._remote_at = 0.0
        self._remote_on: bool | None = None
        self._remote_failed = False
        self._remote_retry_at = 0.0
        self._warned: set[str] = set()
        self.last_line = ''

    def interval(self) -> float:
        if self._unpublished is not None:
            return RETRY_INTERVAL
        try:
            monitor = float(self.conf.exec.monitor_interval)
        except (cfg.Error, ValueError):
            monitor = LOOK_INTERVAL
        return min(LOOK_INTERVAL, max(MIN_LOOK_INTERVAL, monitor))

    def start(self) -> None:
        self.periodic.start()

    def stop(self) -> None:
        self.periodic.stop()
        self.store.close()

    # -- the loop -------------------------------------------------------------

    def run_once(self, force: bool = False) -> str:
        """One look at the KB; a read or a sync of the catalog if due."""
        api = self._knowmon()
        if not api.in_quorum():
            return self._say('catalog: fenced (no quorum), not acting')
        now = self._clock()
        on = publish_remote(self.conf)
        if on and self.refused:
            self._warn_once([self.refused])
            on = False
        gather = (
            force
            or self._gathered_at is None
            or now - self._gathered_at >= GATHER_INTERVAL
        )
        retry = self._remote_failed and now >= self._remote_retry_at
        resend = self._unpublished is not None
        if not on:
            # Off: only the regions sodos made before are removed, which
            # needs no KB state: along with each read of the catalog, and
            # once the option was turned off.
            if not (gather or resend or retry or self._remote_on is not False):
                return self.last_line
        catalog = api.read('catalog') or {}
        sites = api.read('sites') or {}
        key = catalog_plan.fingerprint(catalog, sites, self.site, on)
        gather = gather or (self.site not in catalog and not resend)
        if on:
            audit = now - self._remote_at >= float(
                self.conf.identity.audit_interval
            )
            remote = force or audit or retry or key != self._remote_seen
        else:
            remote = gather or retry or self._remote_on is not False
        if not (gather or resend or remote):
            return self.last_line
        parts: list[str] = []
        changed = False
        snap = None
        if gather:
            snap, part, published = self._gather(api, catalog, now)
            parts.append(part)
            changed = changed or published
        elif self._unpublished is not None:
            part, published = self._publish(api, catalog, self._unpublished)
            parts.append(part)
            changed = changed or published
        if remote:
            part, synced = self._remote(catalog, sites, on, snap)
            parts.append(part)
            changed = changed or synced
            # A failed sync is tried again later, or at the next change
            # in the KB, not at every look (a Keystone refusing the
            # writes would refuse them again at once).
            self._remote_seen, self._remote_at = key, now
            self._remote_on = on
            self._remote_retry_at = now + REMOTE_RETRY
        return self._say('catalog: ' + '; '.join(parts), changed)

    def _say(self, line: str, changed: bool = True) -> str:
        if changed or line != self.last_line:
            LOG.info(line)
        else:
            LOG.debug(line)
        self.last_line = line
        return line

    def _warn_once(self, texts: list[str]) -> None:
        for text in texts:
            if text not in self._warned:
                self._warned.add(text)
                LOG.warning('catalog: %s', text)

    # -- this site's catalog, into the KB ------------------------------------

    def _gather(
        self, api: rpcapi.KnowMonClient, catalog: dict[str, Any], now: float
    ) -> tuple[catalog_plan.Snapshot | None, str, bool]:
        """(the snapshot read, what happened, whether the KB changed)."""
        try:
            snap = self.store.snapshot()
        except DRIVER_ERRORS as exc:
            return None, 'own catalog not read: %s' % exc, False
        self._gathered_at = now
        entries, skipped = catalog_plan.own_entries(snap)
        self._warn_once(['not published: %s' % text for text in skipped])
        part, published = self._publish(api, catalog, entries)
        return snap, part, published

    def _publish(
        self,
        api: rpcapi.KnowMonClient,
        catalog: dict[str, Any],
        entries: list[dict[str, str]],
    ) -> tuple[str, bool]:
        """Commit ``entries`` unless the KB holds them already."""
        self._unpublished = None
        if entries == (catalog.get(self.site) or {}).get('endpoints'):
            return 'own catalog unchanged', False
        try:
            rpcapi.propose(
                api,
                'site.catalog',
                {'site': self.site, 'endpoints': entries},
                self.site,
            )
        except exception.SodosError as exc:
            # Sent again soon (the site not registered yet, say).
            self._unpublished = entries
            return 'own catalog not published: %s' % exc, False
        regions = sorted({e['region'] for e in entries if e['region']})
        return (
            'own catalog published (%d endpoint(s), region(s) %s)'
            % (len(entries), ', '.join(regions) or 'none'),
            True,
        )

    # -- the other sites' catalogs, into this Keystone -----------------------

    def _remote(
        self,
        catalog: dict[str, Any],
        sites: dict[str, Any],
        on: bool,
        snap: catalog_plan.Snapshot | None,
    ) -> tuple[str, bool]:
        """(what happened, whether this Keystone changed)."""
        self._remote_failed = True
        if snap is None:
            try:
                snap = self.store.snapshot()
            except DRIVER_ERRORS as exc:
                return 'remote regions not read: %s' % exc, False
        wanted = catalog_plan.Desired()
        if on:
            own = catalog_plan.own_regions(snap)
            wanted = catalog_plan.desired(catalog, sites, self.site, own)
        ops, unlisted = catalog_plan.plan(wanted, snap)
        self._warn_once(wanted.notes + unlisted)
        failed: list[str] = []
        missing: set[str] = set()  # regions that could not be created
        for op in ops:
            if op.action == 'create_endpoint' and op.args[2] in missing:
                failed.append('%s: no region' % op.text)
                continue
            try:
                op.apply(self.store)
            except DRIVER_ERRORS as exc:
                failed.append('%s: %s' % (op.text, exc))
                LOG.warning('catalog: %s failed: %s', op.text, exc)
                if op.action == 'create_region':
                    missing.add(op.args[0])
                continue
            LOG.info('catalog: %s', op.text)
        self._remote_failed = bool(failed)
        text = 'remote regions %s: %d change(s)' % (
            _regions_text(wanted.regions) if on else 'off',
            len(ops) - len(failed),
        )
        if failed:
            text += ', %d failed (%s)' % (len(failed), failed[0])
        return text, bool(ops)


def _regions_text(regions: dict[str, str], shown: int = 5) -> str:
    """The regions listed, for the cycle line: a few names, or a count."""
    if not regions:
        return 'none'
    if len(regions) > shown:
        return '(%d)' % len(regions)
    return ', '.join(sorted(regions))
