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

"""The sites of the federation, their status, profile and monitoring."""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()


@COMMANDS.command(
    'site.register',
    schemas.obj(
        ['site', 'address'],
        site=schemas.NAME,
        address=schemas.ADDRESS,
        roles={'type': 'array', 'items': schemas.NAME, 'maxItems': 16},
        info=schemas.OBJECT,
    ),
)
def _site_register(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    name, address = args['site'], args['address']
    for other in sorted(data['sites']):
        site = data['sites'][other]
        if other != name and site['address'] == address:
            if site['status'] != 'left':
                raise base.Rejected(
                    'address %s already belongs to site %s' % (address, other)
                )
    site = data['sites'].get(name)
    created = site is None
    if site is None:
        site = data['sites'][name] = {
            'name': name,
            'role': 'readonly',
            'status': 'unknown',
            'joined_at': cmd['ts'],
            'status_changed_at': cmd['ts'],
        }
    published = args.get('info', {})
    site.update(
        address=address,
        roles=list(args.get('roles', [])),
        # What the site says of itself, kept so that an operator's
        # override can be taken back (site.profile's ``unset``).
        published=published,
        info=_with_overrides(published, site.get('profile_overrides')),
        updated_at=cmd['ts'],
    )
    # The site proposed this command itself, so it is alive.
    if site['status'] != 'up':
        site.update(status='up', status_changed_at=cmd['ts'], reason='joined')
    return {'created': created}


def _with_overrides(
    info: dict[str, Any], overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """A site's info, its profile with the operator's overrides on top."""
    if not overrides:
        return info
    profile = dict(info.get('profile') or {})
    profile.update(overrides)
    return dict(info, profile=profile)


@COMMANDS.command(
    'site.profile',
    dict(
        schemas.obj(
            ['site'],
            site=schemas.NAME,
            profile=schemas.PROFILE,
            unset={
                'type': 'array',
                'items': {'enum': sorted(schemas.PROFILE['properties'])},
                'uniqueItems': True,
                'minItems': 1,
            },
        ),
        anyOf=[{'required': ['profile']}, {'required': ['unset']}],
    ),
)
def _site_profile(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """Operator overrides of a site's published profile.

    Kept apart (``profile_overrides``) and merged over what the site
    publishes at each ``site.register``, so that they outlive it.
    ``unset`` takes overrides back: the published value shows again.
    """
    args = cmd['args']
    site = base.site(data, args['site'])
    overrides = dict(site.get('profile_overrides') or {})
    overrides.update(args.get('profile') or {})
    for key in args.get('unset', ()):
        overrides.pop(key, None)
    site['profile_overrides'] = overrides
    if 'published' in site:
        site['info'] = _with_overrides(site['published'], overrides)
    else:
        # Registered before the published profile was kept: drop the
        # keys taken back until the site registers again and says them.
        info = dict(site.get('info') or {})
        profile = dict(info.get('profile') or {})
        for key in args.get('unset', ()):
            profile.pop(key, None)
        site['info'] = _with_overrides(dict(info, profile=profile), overrides)
    site['updated_at'] = cmd['ts']
    return {}


@COMMANDS.command('site.leave', schemas.obj(['site'], site=schemas.NAME))
def _site_leave(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    site = base.site(data, cmd['args']['site'])
    site.update(status='left', status_changed_at=cmd['ts'], reason='left')
    return {}


@COMMANDS.command(
    'site.status',
    schemas.obj(
        ['site', 'status'],
        site=schemas.NAME,
        status={'enum': ['up', 'down']},
        reason=schemas.SMALL_TEXT,
    ),
    leader_only=True,
)
def _site_status(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    site = base.site(data, args['site'])
    if site['status'] in ('left', args['status']):
        return {'changed': False}
    site.update(
        status=args['status'],
        status_changed_at=cmd['ts'],
        reason=args.get('reason', ''),
    )
    return {'changed': True}


@COMMANDS.command(
    'site.maintenance',
    schemas.obj(
        ['site', 'state'],
        site=schemas.NAME,
        state={'enum': ['', 'draining', 'drained']},
        reason=schemas.SMALL_TEXT,
    ),
)
def _site_maintenance(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    args = cmd['args']
    site = base.site(data, args['site'])
    before = site.get('maintenance', '')
    if args['state'] == 'drained' and before != 'draining':
        raise base.Rejected(
            'site %s is not draining (%s): drain it first'
            % (args['site'], before or 'in service')
        )
    site['maintenance'] = args['state']
    site['maintenance_changed_at'] = cmd['ts']
    return {'changed': before != args['state']}


@COMMANDS.command(
    'monitoring.report',
    schemas.obj(
        ['site', 'summary'], site=schemas.NAME, summary=schemas.OBJECT
    ),
)
def _monitoring_report(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    args = cmd['args']
    base.site(data, args['site'])
    data['monitoring'][args['site']] = {
        'summary': args['summary'],
        'reported_at': cmd['ts'],
    }
    return {}
