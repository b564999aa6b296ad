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

"""Where members' servers failed for good, and when they may go back.

A member is kept off a site where its server failed for good (no valid
host, quota) for ``[analyseplan]failed_site_retry_after`` seconds from
the failure; then it may be placed there again, and a member still
placed there is built anew. Every plan that says where members go (the
planning cycle, a what-if, the pre-staging questions) counts failures
here, with the plan's clock: one rule for all of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from sodos.analyseplan.view import SiteTable

# Member key -> the sites it is kept off for now.
Failed = dict[str, set[str]]


@dataclasses.dataclass
class Retries:
    """When the members kept off sites may go back, as one plan counts
    it (what :func:`failed_sites` found besides the sites)."""

    # Seconds a member is kept off a site after a failure there; None:
    # for good (no clock, or 0 configured).
    after: float | None = None
    # (member key, site) -> when its server failed there; None when no
    # time is recorded (a hand-made view).
    failed_at: dict[tuple[str, str], float | None] = dataclasses.field(
        default_factory=dict
    )
    # Member key -> when its server failed at the site it is placed at,
    # for members whose time off is over: they are placed again, which
    # builds them anew (kept, they would wait for a server no one asks
    # for).
    due: dict[str, float] = dataclasses.field(default_factory=dict)

    def times(self, key: str, sites: Iterable[str]) -> dict[str, float]:
        """Site -> when ``key``'s server failed there, for those of
        ``sites`` (the ones it is kept off) whose time is known: what its
        next placement records."""
        return {
            site: at
            for site in sorted(sites)
            if (at := self.failed_at.get((key, site))) is not None
        }

    def retry_at(
        self, key: str, sites: Iterable[str], table: SiteTable
    ) -> dict[int, float]:
        """Site index -> when ``key`` may be placed there again, for
        those of ``sites`` (the ones it is kept off) it may; none when
        failures count for good."""
        if self.after is None:
            return {}
        return {
            table.index[site]: at + self.after
            for site, at in self.times(key, sites).items()
            if site in table.index
        }


# No failure known, or no time to retry after (a hand-made view).
NO_RETRIES = Retries()


def failed_sites(
    actions: dict[str, Any],
    placements: dict[str, Any],
    now: float | None = None,
    retry_after: float = 0.0,
) -> tuple[Failed, Retries]:
    """Member key -> sites where its server failed for good, for
    ``retry_after`` seconds from the failure (0, or no ``now``: for
    good), and when each failure happened; a failure older than that no
    longer counts.

    From the placements' record of earlier failures, and from the last
    create asked of the site a member is placed at, when it failed with
    a permanent error (a transient one is retried in place; an older
    failure is history once a new create was asked there).

    The time of a failure is the one the KB recorded: the failed
    action's ``updated_at`` (when Exec reported it), carried on in the
    placement's ``info.failed_at`` when the member moves on, since the
    action is pruned after a while. ``failed_at`` is optional: a
    placement written before it existed (or by a member not upgraded
    yet, which ignores it) lists only the sites, and its ``placed_at``
    stands for their failures: they were known when it was placed, so
    the member waits at least as long as it would have. No command nor
    schema changes, hence no KB version gate.
    """
    window = retry_after if now is not None and retry_after > 0 else None
    out: Failed = {}
    retries = Retries(window)
    at = retries.failed_at
    for key, placed in placements.items():
        info = placed.get('info') or {}
        times = info.get('failed_at') or {}
        for site in info.get('failed_sites') or ():
            _record(at, key, site, times.get(site, placed.get('placed_at')))
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for action in actions.values():
        if action.get('kind') != 'server.create':
            continue
        params = action.get('params') or {}
        key = '%s/%s' % (params.get('appliance_id'), params.get('member'))
        placed = placements.get(key)
        # Only a failure at the site the member is placed at counts: an
        # older one elsewhere is history.
        if not placed or placed.get('site') != action['site']:
            continue
        found = latest.get((key, action['site']))
        if found is None or _asked(action) > _asked(found):
            latest[key, action['site']] = action
    for (key, site), action in latest.items():
        result = action.get('result') or {}
        if action.get('state') == 'failed' and not result.get('transient'):
            _record(at, key, site, action.get('updated_at'))
    for (key, site), when in at.items():
        if window is not None and now is not None and when is not None:
            if now - when >= window:
                if placements[key].get('site') == site:
                    retries.due[key] = when
                continue
        out.setdefault(key, set()).add(site)
    return out, retries


def _asked(action: dict[str, Any]) -> tuple[float, str]:
    """The order creates were asked in (the same as ``orders``)."""
    return (action.get('created_at') or 0.0, action['action_id'])


def _record(
    at: dict[tuple[str, str], float | None],
    key: str,
    site: str,
    when: float | None,
) -> None:
    """Note a failure of ``key`` at ``site``; of two, the later counts
    (an unknown time counts as the latest: kept off for good)."""
    slot = (key, site)
    if slot not in at:
        at[slot] = when
        return
    before = at[slot]
    at[slot] = None if before is None or when is None else max(before, when)
