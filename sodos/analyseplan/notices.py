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
"""Reclaim notices: the KB's record of the guests an owner reclaims
room from with notice, and the alerts that tell the guests' owners.

A guest no other site can take is told before it is stopped: the
leader commits ``owner.reclaim`` (``owners.<host>.reclaims.<member>``:
the site, the guest's owner, the deadline) and raises an alert of kind
:data:`KIND`, naming the guest's owner, the member, the site and when
it stops. A guest moved instead is recorded too (``moved_to``): its
room counts as being freed until its old server is gone. The record
keeps the guest off the site while the owner's member waits for the
room; once the reclaim is over the record goes and the alert closes.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sodos.analyseplan import keeping
from sodos.analyseplan.plan import Plan
from sodos.analyseplan.plan import Reclaim
from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import finite
from sodos.analyseplan.view import utc
from sodos.kb.schemas import PLAN_CHUNK

KIND = 'reclaim'
# Alert ids from the member key: every leader raises the same alert.
_NAMESPACE = uuid.UUID('8e0b7c52-2f5d-4d0c-9b0e-3f7a61d4c2a9')


def records(kb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Member key -> its reclaim record, with ``owner`` (the host)."""
    out = {}
    for owner, record in sorted((kb.get('owners') or {}).items()):
        for key, found in sorted(
            ((record or {}).get('reclaims') or {}).items()
        ):
            out[key] = dict(found, owner=owner)
    return out


def banned(kb: dict[str, Any], table: SiteTable) -> dict[str, set[int]]:
    """A guest under a reclaim is not placed back on its site."""
    out: dict[str, set[int]] = {}
    for key, found in records(kb).items():
        i = table.index.get(found['site'])
        if i is not None:
            out.setdefault(key, set()).add(i)
    return out


def freeing(
    table: SiteTable,
    i: int,
    known: dict[str, dict[str, Any]],
    placements: dict[str, Any],
    flavors: dict[str, str],
) -> list[float]:
    """Room at site ``i`` servers leaving will free: those listed there
    of members placed elsewhere or nowhere, and those of the guests
    reclaimed from it (``known``: :func:`records`): a server being
    deleted is no longer listed, but its room is used until it is gone.
    ``flavors``: member key -> its flavor."""
    name = table.names[i]
    found = keeping.leaving(table, i, placements, flavors)
    for key, record in known.items():
        flavor = flavors.get(key)
        if (
            record['site'] == name
            and (placements.get(key) or {}).get('site') != name
            and key not in table.servers[i]
            and flavor
        ):
            need = finite(table.need(flavor)[i])
            found = [f + n for f, n in zip(found, need, strict=True)]
    return found


def notice(
    found: dict[str, Any] | None, claim: Reclaim, notice_s: float, now: float
) -> Reclaim:
    """``claim`` with its deadline: the one its record (``found``) was
    told, else ``notice_s`` from ``now``; stopped once that has passed."""
    if claim.moved_to:
        return claim
    if found is not None and found['site'] == claim.site:
        deadline = float(found['deadline'])
        # Told first (the record in the KB), stopped once it is due.
        return dataclasses.replace(
            claim, deadline=deadline, stop=now >= deadline
        )
    return dataclasses.replace(claim, deadline=now + notice_s, stop=False)


def when(deadline: float) -> str:
    return utc(deadline)


def alert_id(key: str) -> str:
    return uuid.uuid5(_NAMESPACE, key).hex


def commands(kb: dict[str, Any], plan: Plan) -> list[tuple[str, Any]]:
    """(command type, args) that record ``plan``'s reclaims in the KB
    and tell the guests' owners: the new notices with their deadlines,
    the reclaims that are over, and their ``reclaim`` alerts."""
    known = records(kb)
    alerts = kb.get('alerts', {})
    out: list[tuple[str, Any]] = []
    notices = [
        {
            'owner': r.host,
            'member': r.key,
            'site': r.site,
            'guest': r.guest,
            'deadline': r.deadline,
            'reason': r.reason[:1024],
            **({'moved_to': r.moved_to} if r.moved_to else {}),
        }
        for r in plan.reclaims
        if r.key not in known
    ]
    ended = [
        {'owner': known[key]['owner'], 'member': key}
        for key in plan.reclaims_ended
        if key in known
    ]
    for start in range(0, max(len(notices), len(ended)), PLAN_CHUNK):
        out.append(
            (
                'owner.reclaim',
                {
                    'notices': notices[start : start + PLAN_CHUNK],
                    'ended': ended[start : start + PLAN_CHUNK],
                },
            )
        )
    for r in plan.reclaims:
        message = _message(r)
        found = alerts.get(alert_id(r.key))
        # A move is told only to a guest that was told it would stop.
        if (found or {}).get('message') == message or (
            r.moved_to and not found
        ):
            continue
        out.append(
            (
                'alert.raise',
                {
                    'alert_id': alert_id(r.key),
                    'site': r.site,
                    'kind': KIND,
                    'severity': 'critical'
                    if r.stop
                    else 'info'
                    if r.moved_to
                    else 'warning',
                    'message': message,
                },
            )
        )
    for key in plan.reclaims_ended:
        if alert_id(key) in alerts:
            out.append(
                (
                    'alert.close',
                    {'alert_id': alert_id(key), 'reason': 'reclaim over'},
                )
            )
    return out


def _message(r: Reclaim) -> str:
    guest = 'owner %s' % r.guest if r.guest else 'no owner'
    if r.moved_to:
        return (
            '%s: member %s moved from site %s to %s, not stopped (%s)'
            % (guest, r.key, r.site, r.moved_to, r.reason)
        )[:1024]
    if r.stop:
        text = '%s: member %s stopped at site %s, its notice ended %s (%s)'
    else:
        text = (
            '%s: member %s at site %s is stopped at %s unless another '
            'site can take it (%s)'
        )
    return (text % (guest, r.key, r.site, when(r.deadline), r.reason))[:1024]
