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

"""The owners of sites: their sharing policies (:mod:`sodos.domain.community`).

Who may change an owner's policy is the API's to decide (its owner's
admins, or the federation admin); the applier checks again what the
state decides: that the owner and every owner its policy names exist.
"""

from __future__ import annotations

from typing import Any

from sodos.domain import community
from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()
SECTION = 'owners'


@COMMANDS.command(
    'owner.policy',
    dict(
        schemas.obj(
            ['owner'],
            owner=community.OWNER,
            policy=community.POLICY_SCHEMA,
            unset={
                'type': 'array',
                'items': {'enum': list(community.FIELDS)},
                'uniqueItems': True,
                'minItems': 1,
            },
        ),
        anyOf=[{'required': ['policy']}, {'required': ['unset']}],
    ),
)
def _owner_policy(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """Set (``policy``) or take back (``unset``: the default shows again)
    fields of an owner's sharing policy."""
    args = cmd['args']
    owner = args['owner']
    known = community.known_owners(data['sites'], data.get('identity') or {})
    if owner not in known:
        raise base.Rejected(
            'owner: unknown owner %r (known: %s)'
            % (owner, ', '.join(sorted(known)) or 'none')
        )
    owners = data.setdefault(SECTION, {})
    record = owners.get(owner) or {}
    current = dict(record.get('policy') or {})
    for key in args.get('unset', ()):
        current.pop(key, None)
    current.update(args.get('policy') or {})
    try:
        community.check_names(community.merged(None, current), owner, known)
    except community.InvalidPolicy as exc:
        raise base.Rejected(str(exc)) from None
    # Only what was set is kept: a default changed later applies to
    # owners that never chose.
    owners[owner] = dict(
        record, policy=current, updated_at=cmd['ts'], updated_by=cmd['origin']
    )
    return {}


@COMMANDS.command(
    'owner.usage',
    schemas.obj(
        ['usage'],
        usage={
            'type': 'object',
            'maxProperties': 1000,
            'propertyNames': community.OWNER,
            'additionalProperties': {
                'type': 'number',
                'minimum': 0,
                'maximum': 1e9,
            },
        },
    ),
    leader_only=True,
)
def _owner_usage(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """The owners' decayed mean usage (vCPUs) as of the command's time,
    computed by the leader's AnalysePlan (sodos.analyseplan.usage)."""
    owners = data.setdefault(SECTION, {})
    for owner in sorted(cmd['args']['usage']):
        record = owners.setdefault(owner, {})
        record['usage'] = {
            'mean': cmd['args']['usage'][owner],
            'at': cmd['ts'],
        }
    return {}


_MEMBER_KEY: dict[str, Any] = {
    'type': 'string',
    'minLength': 3,
    'maxLength': 512,
    'pattern': '/',
}
_GUEST: dict[str, Any] = {'anyOf': [community.OWNER, {'const': ''}]}


@COMMANDS.command(
    'owner.reclaim',
    schemas.obj(
        [],
        notices={
            'type': 'array',
            'maxItems': schemas.PLAN_CHUNK,
            'items': schemas.obj(
                ['owner', 'member', 'site', 'guest', 'deadline', 'reason'],
                owner=community.OWNER,
                member=_MEMBER_KEY,
                site=schemas.NAME,
                guest=_GUEST,
                deadline={'type': 'number', 'minimum': 0},
                reason=schemas.SMALL_TEXT,
                moved_to=schemas.NAME,
            ),
        },
        ended={
            'type': 'array',
            'maxItems': schemas.PLAN_CHUNK,
            'items': schemas.obj(
                ['owner', 'member'],
                owner=community.OWNER,
                member=_MEMBER_KEY,
            ),
        },
    ),
    leader_only=True,
    # Added after the first release of the KB schema.
    since=2,
)
def _owner_reclaim(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """Guests an owner reclaims room from, moved or with notice
    (sodos.analyseplan.reclaim): ``owners.<owner>.reclaims.<member>``.

    A notice already given keeps its deadline: the guest's owner was
    told it, and a later plan may not shorten it.
    """
    owners = data.setdefault(SECTION, {})
    for notice in cmd['args'].get('notices', ()):
        record = owners.setdefault(notice['owner'], {})
        reclaims = record.setdefault('reclaims', {})
        if notice['member'] not in reclaims:
            reclaims[notice['member']] = {
                'site': notice['site'],
                'guest': notice['guest'],
                'deadline': notice['deadline'],
                'reason': notice['reason'],
                'noticed_at': cmd['ts'],
            }
            if 'moved_to' in notice:
                reclaims[notice['member']]['moved_to'] = notice['moved_to']
    for ended in cmd['args'].get('ended', ()):
        record = owners.get(ended['owner']) or {}
        reclaims = record.get('reclaims') or {}
        reclaims.pop(ended['member'], None)
        if not reclaims:
            record.pop('reclaims', None)
    return {}
