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

"""Copies what the KB forgets into this site's history database.

The KB keeps only what the federation needs to act: ended actions are
pruned after ``[knowmon]action_retention``, closed alerts are kept a
short while, and each site's monitoring summary is replaced by the next.
Every KnowMon copies them into its own history database
(``[database]connection``), so each site can answer "what happened"
(the REST API's ``/v1/history``) even after the KB moved on. It also
adds what the running members used to the accounting
(:mod:`sodos.knowmon.accounting`, ``/v1/usage``).

Copies are idempotent (a row recorded again replaces itself, a sample is
unique per site and collection time), so a restart that copies again
does no harm. What was copied is remembered in memory only to avoid
rewriting the same rows every run.
"""

from __future__ import annotations

import logging
import types
from typing import Any

from oslo_config import cfg

from sodos.kb import shapes
from sodos.knowmon import accounting

LOG = logging.getLogger(__name__)

ENDED = ('done', 'failed')


def _db() -> types.ModuleType:
    # The history database's code brings SQLAlchemy (~18 MB in every
    # site process): imported once the first copy is made.
    from sodos.db import api

    return api


class HistoryRecorder:
    """Copies one KB read at a time into the history database."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self._actions: set[str] = set()
        self._alerts: set[str] = set()
        self._samples: dict[str, float] = {}
        self._broken: str | None = None
        self.usage = accounting.UsageRecorder(conf)

    def record(self, read: Any) -> dict[str, int]:
        """Copy what is new in the KB; counts of rows written per kind.

        ``read(section)`` reads one KB section. A database that cannot be
        reached (or was never created) is reported once and retried at
        the next run.
        """
        db_api = _db()
        try:
            counts = {
                'actions': self._copy_actions(read('actions')),
                'alerts': self._copy_alerts(read('closed_alerts')),
                'samples': self._copy_samples(read('monitoring')),
                'usage': self.usage.record(read),
            }
        except db_api.DatabaseError as exc:
            # Once per outage: the failing table may differ run to run.
            if self._broken is None:
                LOG.warning(
                    'history database not written: %s (create it with '
                    '"sodos-manage db sync")',
                    exc,
                )
                self._broken = str(exc)
            return {}
        if self._broken is not None:
            LOG.info('history database written again')
            self._broken = None
        return counts

    def _copy_actions(self, actions: dict[str, Any]) -> int:
        written = 0
        for action_id, action in actions.items():
            if action['state'] not in ENDED or action_id in self._actions:
                continue
            _db().record_action(
                self.conf,
                action_id=action_id,
                site=action['site'],
                kind=action['kind'],
                params=action.get('params', {}),
                state=action['state'],
                created_at=action['created_at'],
                ended_at=action['updated_at'],
                result=action.get('result'),
            )
            self._actions.add(action_id)
            written += 1
        # Forget ids the KB pruned: they will not come back.
        self._actions &= set(actions)
        return written

    def _copy_alerts(self, closed: dict[str, Any]) -> int:
        written = 0
        for alert_id, alert in closed.items():
            if alert_id in self._alerts:
                continue
            _db().record_alert(
                self.conf,
                alert_id=alert_id,
                site=alert.get('site', ''),
                kind=alert.get('kind', ''),
                severity=alert.get('severity', ''),
                message=alert.get('message', ''),
                raised_at=alert['raised_at'],
                closed_at=alert['closed_at'],
                reason=alert.get('reason') or None,
            )
            self._alerts.add(alert_id)
            written += 1
        self._alerts &= set(closed)
        return written

    def _copy_samples(self, monitoring: dict[str, Any]) -> int:
        written = 0
        for site, entry in monitoring.items():
            summary = shapes.summary_of(entry)
            collected = summary.get('collected_at')
            if not isinstance(collected, (int, float)):
                continue
            if self._samples.get(site) == collected:
                continue
            if _db().record_monitoring(
                self.conf, site=site, collected_at=collected, summary=summary
            ):
                written += 1
            self._samples[site] = collected
        return written


def prune_before(
    actions: dict[str, Any], now: float, retention: float
) -> float | None:
    """The ``action.prune`` cut-off if some ended action is due, else None.

    Only worth a KB write when something would go.
    """
    cutoff = now - retention
    for action in actions.values():
        if action['state'] in ENDED and action['updated_at'] < cutoff:
            return cutoff
    return None
