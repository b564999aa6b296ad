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

"""Exec's identity loop: the site's Keystone kept to the KB's identity.

Every ``[identity]sync_interval``, and as soon as the KB member in the
same process applies a change of the desired state (the site process
runs KnowMon beside Exec), Exec reads the identity section of the KB;
when its revision changed since the last pass (or the last pass
failed, or ``[identity]audit_interval`` has passed since it last read
the site) it makes one pass: read the site's identity, diff it with the
desired state (:mod:`sodos.identity.converge`) and apply the operations
through the writer ``[identity]mode`` names, in dcorch's order. Then it
writes the site's own ids into the KB's ID map, if they changed. A pass
for a change of the KB alone reads nothing: it starts from the view of
the site the last pass left (:mod:`sodos.exec.identity.converger`).

Drift: a change needed on something this loop had already brought in
line with the same desired state (a managed user disabled, an assignment
removed, a managed project deleted by hand), or an extra assignment on a
managed project, was made at the site by hand. The next pass that reads
the site repairs it like any other difference, logged at WARNING and
raised as an ``identity_drift`` alert in the KB. A password changed by
hand at the site cannot be seen through the Keystone API: only setting
it again from the federation repairs it. The ``shared`` writer reads
Keystone's database and sees it: the federation's password is set
again, as drift.

In ``shared`` mode every object has its global id at the site too (the
ID map then maps each id to itself); an object of the KB that the site
holds under another id is a conflict, reported until the operator
removes it.

Adoption requests naming this site (:mod:`sodos.identity.adoption`)
are answered at every look at the KB, before the pass.

Like every Exec action, a pass runs only while the site's KnowMon is in
contact with a quorum (fencing).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import periodic
from sodos.exec.identity import adoptions as identity_adoptions
from sodos.exec.identity import converger
from sodos.identity import adoption
from sodos.identity import converge_links
from sodos.identity import model
from sodos.identity import writer as writer_mod
from sodos.knowmon import rpcapi

if TYPE_CHECKING:
    from sodos.exec.drivers import base as exec_driver

LOG = log.getLogger(__name__)
ALERT_KIND = 'identity_drift'
# Repairs named in one alert message (the rest are counted).
ALERT_NAMES = 8
# ID map entries in one identity.map command (the schema takes 1000).
MAP_CHUNK = 500


def make(
    conf: cfg.ConfigOpts,
    site_driver: exec_driver.Driver,
    knowmon: Callable[[], rpcapi.KnowMonClient],
) -> IdentitySync | None:
    """The identity loop ``[identity]mode`` asks for; None when the mode
    is off or the site's driver has no writer for it.

    :raises ConfigError: the driver's writer for the mode lacks options
        or cannot use them.
    """
    mode = conf.identity.mode
    if mode == 'off':
        return None
    made = site_driver.identity_writer(shared=mode == 'shared')
    if made is None:
        LOG.info(
            'identity: the %s Exec driver has no %s identity writer: this '
            "site's identity is not managed",
            conf.exec.driver,
            mode,
        )
        return None
    return IdentitySync(conf, made, knowmon)


class IdentitySync:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        writer: writer_mod.IdentityWriter,
        knowmon: Callable[[], rpcapi.KnowMonClient],
    ) -> None:
        self.conf = conf
        self.site = conf.site_name
        self.writer = writer
        # True for the shared writer: every object must have its global
        # id at this site, one held under another id is a conflict.
        self.same_ids = bool(getattr(writer, 'same_ids', False))
        self.adopter = identity_adoptions.Adopter(conf, writer, self.same_ids)
        self._knowmon = knowmon
        self._interval = periodic.ReloadedInterval(
            lambda: self.conf.identity.sync_interval,
            '[identity]sync_interval',
            10.0,
        )
        self.periodic = periodic.Periodic(
            'exec-identity', self.run_once, self.interval
        )
        self.converger = converger.Converger(conf, writer, self.same_ids)
        self._synced_revision: int | None = None
        self._last_pass = 0.0
        self._failed = False
        self.passes = 0
        self.last_line = ''

    def interval(self) -> float:
        """``[identity]sync_interval``, read at every look."""
        return self._interval()

    def start(self) -> None:
        self.periodic.start()

    def stop(self) -> None:
        self.periodic.stop()
        self.writer.close()

    def wake(self) -> None:
        self.periodic.wake()

    def wakes_for(self, wire: dict[str, Any], result: dict[str, Any]) -> bool:
        """Whether the KB command ``wire``, just applied with ``result``,
        calls for a look now: a change of the desired state (its result
        gives the new revision) or an adoption request naming this site.
        Runs in the thread that applies the log: it must be quick."""
        if not result.get('ok'):
            return False
        if 'revision' in result:
            return True
        return wire.get('type') == 'identity.adopt' and (
            (wire.get('args') or {}).get('site') == self.site
        )

    # -- the loop -----------------------------------------------------------

    def run_once(self, force: bool = False) -> str:
        """One look at the KB, and a pass if one is due."""
        api = self._knowmon()
        if not api.in_quorum():
            self._failed = True
            return self._say('identity: fenced (no quorum), not acting')
        desired = model.section(api.read('identity') or {})
        waiting = adoption.pending(desired, self.site)
        if waiting:
            # Marks put on the site's objects meanwhile: read it again.
            self.converger.forget()
            self.adopter.answer(api, desired, waiting, self.site)
            desired = model.section(api.read('identity') or {})
        revision = desired['revision']
        audit = time.monotonic() - self._last_pass >= float(
            self.conf.identity.audit_interval
        )
        if (
            not (force or audit or self._failed)
            and revision == self._synced_revision
        ):
            return self.last_line
        why = 'KB revision %s' % revision
        if audit and revision == self._synced_revision:
            why = 'audit'
        # Only a change of the KB starts from the last pass's view of
        # the site; the audit, a forced pass and the one after a failure
        # read the site again (and so see hand edits).
        fresh = force or audit or self._failed
        if not fresh:
            why += ", from the last pass's view of the site"
        # A pass cut short (the site's API down) is tried again at once.
        self._failed = True
        result = self.converge_once(desired, fresh=fresh)
        self._failed = bool(result.failed)
        self._synced_revision = revision
        if fresh:
            # The audit is due audit_interval after the last read of
            # the site, however many passes since started without one.
            self._last_pass = time.monotonic()
        self.passes += 1
        self._publish(api, desired, result)
        return self._say(
            'identity: pass (%s): %s' % (why, result.describe()),
            changed=bool(result.done or result.failed),
        )

    def _say(self, line: str, changed: bool = True) -> str:
        if changed:
            LOG.info(line)
        else:
            LOG.debug(line)
        self.last_line = line
        return line

    def _publish(
        self,
        api: rpcapi.KnowMonClient,
        desired: dict[str, Any],
        result: converger.PassResult,
    ) -> None:
        """Write the ID map and raise the drift alert, if there is cause."""
        current = desired['idmap'].get(self.site, {})
        sets, drops = converge_links.map_changes(
            current, converge_links.site_map(result.ids)
        )
        try:
            # In chunks: one command stays small in the Raft log.
            for start in range(0, max(len(sets), len(drops)), MAP_CHUNK):
                args: dict[str, Any] = {'site': self.site}
                if sets[start : start + MAP_CHUNK]:
                    args['set'] = sets[start : start + MAP_CHUNK]
                if drops[start : start + MAP_CHUNK]:
                    args['drop'] = drops[start : start + MAP_CHUNK]
                rpcapi.propose(api, 'identity.map', args, self.site)
            if result.drift:
                self._alert(api, result.drift)
        except exception.SodosError as exc:
            # The next pass computes the same map and tries again.
            self._failed = True
            LOG.warning('identity: could not update the KB: %s', exc)

    def _alert(self, api: rpcapi.KnowMonClient, drift: list[str]) -> None:
        names = '; '.join(drift[:ALERT_NAMES])
        if len(drift) > ALERT_NAMES:
            names += '; and %d more' % (len(drift) - ALERT_NAMES)
        message = 'identity drift at site %s, repaired: %s' % (
            self.site,
            names,
        )
        rpcapi.propose(
            api,
            'alert.raise',
            {
                'alert_id': uuid.uuid4().hex,
                'site': self.site,
                'kind': ALERT_KIND,
                'severity': 'warning',
                'message': message[:1024],
            },
            self.site,
        )

    # -- one pass -----------------------------------------------------------

    def converge_once(
        self, desired: dict[str, Any], fresh: bool = True
    ) -> converger.PassResult:
        """Bring the site's identity in line with ``desired`` once."""
        return self.converger.converge_once(desired, fresh=fresh)
