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

"""The accounting (/v1/usage): vCPU-hours, RAM-GB-hours and
member-hours per owner, project, site and hour, from this site's
history database (sodos.knowmon.accounting writes it).

Query: ``owner``, ``project`` (global id), ``site``, ``start`` and
``end`` (ISO 8601, a date or a time, naive taken as UTC, or seconds
since the epoch: the hours that start in [start, end)), ``by`` (what
to sum per: a comma list of owner, project, site, hour; default
``owner,project,site``). What the caller may see narrows the answer
(sodos.api.policies.usage).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.handlers import history
from sodos.api.policies import usage as policies
from sodos.db import api as db_api
from sodos.domain import accounting
from sodos.domain import community
from sodos.domain import ownership

_ID = re.compile(community.OWNER['pattern'])
GROUPS = ('hour', 'owner', 'project', 'site')
DEFAULT_BY = ('owner', 'project', 'site')


def when(value: str) -> float:
    """Seconds since the epoch of an ISO 8601 date or time, or of a
    number of seconds."""
    try:
        found = (
            float(value) if re.match(r'^\d+(\.\d+)?\Z', value) else _iso(value)
        )
        # A time the database's DATETIME can hold (years 1 to 9999).
        datetime.datetime.fromtimestamp(found, datetime.UTC)
        return found
    except (ValueError, OverflowError, OSError):
        raise ValueError(
            '%r is not a time (ISO 8601 such as 2026-12-01 or '
            '2026-12-01T10:00:00Z, or seconds since the epoch)' % value
        ) from None


def _iso(value: str) -> float:
    found = datetime.datetime.fromisoformat(value)
    if found.tzinfo is None:
        found = found.replace(tzinfo=datetime.UTC)
    return found.timestamp()


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            '%r is not an id (letters, digits, "_" or "-"; at most 64)' % value
        )
    return value


def _by(value: str) -> tuple[str, ...]:
    found = tuple(v.strip() for v in value.split(',') if v.strip())
    wrong = sorted(set(found) - set(GROUPS))
    if not found or wrong:
        raise ValueError(
            '%s: say what to sum per, a comma list of %s'
            % (
                'unknown %s' % ', '.join(map(repr, wrong))
                if wrong
                else 'empty',
                ', '.join(GROUPS),
            )
        )
    return tuple(g for g in GROUPS if g in found)


def _scope(req: webob.Request, args: dict[str, Any]) -> dict[str, str]:
    """The filters the caller's rights add to those it asked (403 if it
    asked for more than it may see)."""
    if util.allowed(req, policies.LIST_ALL):
        return {}
    ctx = util.context(req)
    owner = args.get('owner') or ctx.project_domain_id
    if owner and util.allowed(req, policies.LIST_OWNER, {'owner': owner}):
        return {'owner': owner}
    local = ctx.project_id
    if local and util.allowed(
        req, policies.LIST_PROJECT, {'project_id': local}
    ):
        site = util.services(req).site
        idmap = util.read(req, 'identity', key='idmap') or {}
        own = ownership.global_id(idmap, site, local)
        if args.get('project', own) == own and 'owner' not in args:
            return {'project': own}
    wanted = ', '.join(
        '%s %s' % (k, args[k]) for k in ('owner', 'project') if k in args
    )
    raise errors.ApiError(
        403,
        errors.FORBIDDEN,
        'policies %s, %s and %s do not allow reading the usage of %s'
        % (
            policies.LIST_ALL,
            policies.LIST_OWNER,
            policies.LIST_PROJECT,
            wanted or 'every owner',
        ),
    )


def list_usage(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    args = util.query(
        req,
        {
            'owner': _identifier,
            'project': _identifier,
            'site': util.name,
            'start': when,
            'end': when,
            'by': _by,
        },
    )
    if 'start' in args and 'end' in args and args['end'] <= args['start']:
        raise errors.invalid_query(
            'end: %s is not after start' % req.GET['end']
        )
    if 'owner' in args:
        known = community.known_owners(
            util.read(req, 'sites') or {}, util.read(req, 'identity') or {}
        )
        if args['owner'] not in known:
            raise errors.invalid_query(
                'owner: unknown owner %r (known: %s)'
                % (args['owner'], ', '.join(sorted(known)) or 'none')
            )
    filters: dict[str, str] = {
        k: args[k] for k in ('owner', 'project', 'site') if k in args
    }
    filters.update(_scope(req, args))
    conf = util.services(req).conf
    rows = history.read_rows(
        req,
        lambda: db_api.usage(
            conf, start=args.get('start'), end=args.get('end'), **filters
        ),
    )
    by = args.get('by', DEFAULT_BY)
    grouped = accounting.totals(
        [dict(r, hour=r['period_start']) for r in rows], by
    )
    return util.respond(
        {
            'usage': grouped,
            'by': list(by),
            'filters': filters,
            'start': args.get('start'),
            'end': args.get('end'),
        }
    )
