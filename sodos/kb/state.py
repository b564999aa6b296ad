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

"""The Knowledge Base state machine.

Every member applies the same commands in the same order and must end in
the same state, so nothing here reads a clock, draws a random number, does
I/O or depends on dict ordering that differs between members. Timestamps,
ids and validation come from the proposer (:mod:`sodos.kb.commands`); the
appliers only check them again, because a command in the log may come from
a member running other code.

An applier never raises: a command that cannot apply is answered with
``{'ok': False, 'error': ...}`` and leaves the state untouched. (pysyncobj
would otherwise retry the entry on every tick, forever.)

The command given to :meth:`KnowledgeState.apply` belongs to the state
machine from then on (pysyncobj unpickles a fresh one for every member;
the memory backend copies it), so appliers store its parts as they are.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import marshal
from collections.abc import Callable
from typing import Any

from sodos.kb import commands

Result = dict[str, Any]
Applier = Callable[[dict[str, Any], dict[str, Any]], Result]

# How many recent command ids each member remembers to drop a retried
# command. A retry comes within [raft]commit_timeout of the original: this
# covers minutes of traffic even at a thousand writes a second. The table
# is part of every snapshot, so it is kept small (benchmarks/README.rst).
DEDUP_WINDOW = 20_000
_OK: Result = {'ok': True}

SECTIONS = (
    'federation',
    'policy',
    'sites',
    'membership',
    'monitoring',
    'alerts',
    'appliances',
    'placements',
    'actions',
    'closed_alerts',
    'images',
    'identity',
    'catalog',
    'identity_keys',
)

# Closed alerts the KB keeps (oldest dropped first): enough for every
# site's history recorder to copy them between two of its runs.
CLOSED_ALERTS_KEPT = 200

_APPLIERS: dict[str, Applier] = {}


class Rejected(Exception):
    """The command is valid but cannot apply to the current state."""


def applier(name: str) -> Callable[[Applier], Applier]:
    def register(func: Applier) -> Applier:
        _APPLIERS[name] = func
        return func

    return register


def empty() -> dict[str, Any]:
    return {
        'federation': {},
        'policy': {'voter_count': None, 'paused': False, 'consolidate': False},
        'sites': {},
        'membership': {'voters': [], 'lock': None},
        'monitoring': {},
        'alerts': {},
        'appliances': {},
        'placements': {},
        'actions': {},
        # The latest closed alerts, for the sites' history databases.
        'closed_alerts': {},
        # The image registry (sodos.kb.images).
        'images': {},
        # The federation's identity (sodos.kb.identity).
        'identity': {},
        # Every site's Keystone endpoints (sodos.kb.catalog).
        'catalog': {},
        # Shared fernet keys and revocations (sodos.kb.identity_keys).
        'identity_keys': {},
    }


class KnowledgeState:
    """The replicated data plus what the appliers need to stay safe."""

    # A running hash of every command applied since ``digest_since``
    # (the count of commands applied when hashing began). Two members
    # that applied the same commands in the same order have the same
    # digest at the same count: the leader compares them (see
    # sodos.kb.raft.heartbeat) to detect a member whose log diverged.
    # Class defaults: states from snapshots made before the digest
    # existed start hashing where they are, and are compared only with
    # members that started at the same count.
    digest = 0
    digest_since: int | None = None

    def __init__(self) -> None:
        self.data: dict[str, Any] = empty()
        # Highest Raft term seen in a leader-only command: proof that a
        # newer leader exists, so older leaders' plans are refused.
        self.leader_term = 0
        self.applied = 0
        # Insertion-ordered (a plain dict is, and pickles smaller than an
        # OrderedDict): the oldest id is dropped first.
        self._recent: dict[str, Result | None] = {}
        self.digest_since = 0

    def apply(self, wire: Any) -> Result:
        command_id = wire.get('id') if isinstance(wire, dict) else None
        if isinstance(command_id, str) and command_id in self._recent:
            first = self._recent[command_id] or _OK
            return dict(first, duplicate=True)
        result = self._apply(wire)
        if self.digest_since is None:
            self.digest_since = self.applied
        self.applied += 1
        self.digest = fold_digest(self.digest, wire)
        if isinstance(command_id, str):
            # Most results are a bare success: remember those as None.
            self._recent[command_id] = None if result == _OK else result
            if len(self._recent) > DEDUP_WINDOW:
                del self._recent[next(iter(self._recent))]
        return result

    def _apply(self, wire: Any) -> Result:
        error = commands.check(wire)
        if error:
            return {'ok': False, 'error': error}
        term = wire.get('term')
        if wire['type'] in commands.LEADER_ONLY:
            if term < self.leader_term:
                return {
                    'ok': False,
                    'error': 'stale term %d: a leader of term %d exists'
                    % (term, self.leader_term),
                }
            self.leader_term = term
        try:
            return dict(_APPLIERS[wire['type']](self.data, wire), ok=True)
        except Rejected as exc:
            return {'ok': False, 'error': str(exc)}

    def read(
        self,
        section: str | None = None,
        site: str | None = None,
        key: str | None = None,
    ) -> Any:
        """A deep copy of one section (or all), safe to hand out.

        ``site`` keeps only what concerns that site (see BY_SITE): Exec
        asks every cycle, and copying every site's actions at every site
        costs the whole federation CPU that grows with its size squared.
        ``key`` keeps only that entry of the section (``{}`` if absent):
        an action that looks up its own member's placement.
        """
        return self.freeze(section, site, key)()

    def freeze(
        self,
        section: str | None = None,
        site: str | None = None,
        key: str | None = None,
    ) -> Callable[[], Any]:
        """What :meth:`read` returns, taken now and unpacked later.

        The members' readers hold the log's lock only while this runs and
        unpack outside it: taking the frozen form costs a twentieth of a
        deep copy, so the thread that applies the log (and, on the
        leader, sends the heartbeats) waits that much less.
        """
        if section is None:
            return frozen(self.data)
        if section not in self.data:
            # A section added after this state was last snapshotted.
            return frozen(empty()[section])
        data = self.data[section]
        if key is not None:
            data = {key: data[key]} if key in data else {}
        if site is not None:
            data = only_site(section, data, site)
        return frozen(data)


def frozen(value: Any) -> Callable[[], Any]:
    """A function to call once for a deep copy of ``value`` as it is now.

    The KB holds plain data (what JSON can say): marshal copies it in a
    quarter of a deep copy's time, nearly all of it in the unpacking.
    """
    try:
        blob = marshal.dumps(value)
    except ValueError:
        # Not plain data (an object a test put in): copy it now.
        copied = copy.deepcopy(value)
        return lambda: copied
    return functools.partial(marshal.loads, blob)


# Sections a read can narrow to one site: keyed by site name, or items
# carrying a 'site'.
KEYED_BY_SITE = ('sites', 'monitoring')
ITEMS_WITH_SITE = ('actions', 'placements', 'alerts')
BY_SITE = KEYED_BY_SITE + ITEMS_WITH_SITE


def only_site(section: str, data: dict[str, Any], site: str) -> dict[str, Any]:
    """The part of ``section`` about ``site`` (not copied)."""
    if section in KEYED_BY_SITE:
        return {site: data[site]} if site in data else {}
    if section in ITEMS_WITH_SITE:
        return {k: v for k, v in data.items() if v.get('site') == site}
    raise ValueError(
        'section %s cannot be read by site (only %s)'
        % (section, ', '.join(BY_SITE))
    )


def fold_digest(digest: int, wire: Any) -> int:
    """The running digest after ``wire``: its id (unique per command), or
    its type for the odd command without one."""
    if isinstance(wire, dict):
        key = wire.get('id') or wire.get('type')
    else:
        key = None
    h = hashlib.blake2b(digest.to_bytes(8, 'big'), digest_size=8)
    h.update(str(key).encode('utf-8', 'replace'))
    return int.from_bytes(h.digest(), 'big')


def own_site(data: dict[str, Any], cmd: dict[str, Any], what: str) -> str:
    """The site of ``cmd``'s args, which only that site may write.

    :raises Rejected: an unknown site, or a command from another site
        ("site a cannot <what> site b").
    """
    site: str = cmd['args']['site']
    _site(data, site)
    if site != cmd['origin']:
        raise Rejected(
            'site %s cannot %s site %s' % (cmd['origin'], what, site)
        )
    return site


def _site(data: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        site: dict[str, Any] = data['sites'][name]
    except KeyError:
        raise Rejected('unknown site %r' % name) from None
    return site


@applier('federation.init')
def _federation_init(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    current = data['federation'].get('id')
    if current is not None:
        if current != args['federation_id']:
            raise Rejected('federation already initialised as %s' % current)
        return {'created': False}
    # The first leader may have claimed its term already.
    data['federation'].update(
        id=args['federation_id'],
        created_at=cmd['ts'],
        created_by=cmd['origin'],
    )
    if data['policy']['voter_count'] is None:
        data['policy']['voter_count'] = args['voter_count']
    return {'created': True}


@applier('leader.claim')
def _leader_claim(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    # The term check in KnowledgeState.apply did the real work: from now
    # on, commands of older leaders are refused.
    data['federation']['leader'] = {
        'site': cmd['args']['site'],
        'term': cmd['term'],
        'since': cmd['ts'],
    }
    return {}


@applier('site.register')
def _site_register(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    name, address = args['site'], args['address']
    for other in sorted(data['sites']):
        site = data['sites'][other]
        if other != name and site['address'] == address:
            if site['status'] != 'left':
                raise Rejected(
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
    site.update(
        address=address,
        roles=list(args.get('roles', [])),
        info=_with_overrides(
            args.get('info', {}), site.get('profile_overrides')
        ),
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


@applier('site.profile')
def _site_profile(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """Operator overrides of a site's published profile.

    Kept apart (``profile_overrides``) and merged over what the site
    publishes at each ``site.register``, so that they outlive it.
    """
    args = cmd['args']
    site = _site(data, args['site'])
    overrides = dict(site.get('profile_overrides') or {})
    overrides.update(args['profile'])
    site['profile_overrides'] = overrides
    site['info'] = _with_overrides(site.get('info') or {}, overrides)
    site['updated_at'] = cmd['ts']
    return {}


@applier('site.leave')
def _site_leave(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    site = _site(data, cmd['args']['site'])
    site.update(status='left', status_changed_at=cmd['ts'], reason='left')
    return {}


@applier('site.status')
def _site_status(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    site = _site(data, args['site'])
    if site['status'] in ('left', args['status']):
        return {'changed': False}
    site.update(
        status=args['status'],
        status_changed_at=cmd['ts'],
        reason=args.get('reason', ''),
    )
    return {'changed': True}


@applier('member.role')
def _member_role(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    site = _site(data, args['site'])
    site['role'] = args['role']
    data['membership']['voters'] = sorted(set(args['voters']))
    return {}


@applier('membership.lock')
def _membership_lock(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    lock = data['membership']['lock']
    granted = (
        lock is None
        or lock['change_id'] == args['change_id']
        # A leader's controller changes one thing at a time: a lock it
        # holds in its own term is a leftover of its own failed change.
        or (lock['owner'] == args['owner'] and lock['term'] == cmd['term'])
        # Only the leader changes membership: a lock taken in an older
        # term belongs to a deposed leader's controller.
        or lock['term'] < cmd['term']
        or cmd['ts'] > lock['ts'] + lock['ttl']
    )
    if granted:
        lock = data['membership']['lock'] = {
            'change_id': args['change_id'],
            'owner': args['owner'],
            'description': args.get('description', ''),
            'ttl': args['ttl'],
            'ts': cmd['ts'],
            'term': cmd['term'],
        }
    return {'granted': granted, 'holder': copy.deepcopy(lock)}


@applier('membership.unlock')
def _membership_unlock(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    lock = data['membership']['lock']
    if lock is None or lock['change_id'] != cmd['args']['change_id']:
        return {'released': False}
    data['membership']['lock'] = None
    return {'released': True}


@applier('policy.set')
def _policy_set(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    data['policy'][cmd['args']['key']] = cmd['args']['value']
    return {}


@applier('monitoring.report')
def _monitoring_report(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    _site(data, args['site'])
    data['monitoring'][args['site']] = {
        'summary': args['summary'],
        'reported_at': cmd['ts'],
    }
    return {}


@applier('alert.raise')
def _alert_raise(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    if args['alert_id'] in data['alerts']:
        return {'created': False}
    data['alerts'][args['alert_id']] = dict(
        args, state='open', raised_at=cmd['ts']
    )
    return {'created': True}


@applier('alert.close')
def _alert_close(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    closed = data['alerts'].pop(args['alert_id'], None)
    if closed is not None:
        kept = data.setdefault('closed_alerts', {})
        kept[args['alert_id']] = dict(
            closed,
            state='closed',
            closed_at=cmd['ts'],
            reason=args.get('reason', ''),
        )
        while len(kept) > CLOSED_ALERTS_KEPT:
            del kept[next(iter(kept))]
    return {'closed': closed is not None}


@applier('alert.ack')
def _alert_ack(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """An operator has seen the alert.

    The alert stays ``open`` for the roles: whoever raised it still acts
    on it and closes it (an acknowledged overload is still relieved).
    """
    args = cmd['args']
    alert = data['alerts'].get(args['alert_id'])
    if alert is None:
        raise Rejected('no open alert %s' % args['alert_id'])
    if alert.get('acknowledged_at') is not None:
        return {'changed': False}
    alert.update(
        acknowledged_at=cmd['ts'],
        acknowledged_by=args['by'],
        comment=args.get('comment', ''),
    )
    return {'changed': True}


@applier('appliance.put')
def _appliance_put(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    old = data['appliances'].get(args['appliance_id'])
    data['appliances'][args['appliance_id']] = {
        'spec': args['spec'],
        'created_at': old['created_at'] if old else cmd['ts'],
        'updated_at': cmd['ts'],
    }
    return {'created': old is None}


@applier('appliance.delete')
def _appliance_delete(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    gone = data['appliances'].pop(cmd['args']['appliance_id'], None)
    return {'deleted': gone is not None}


@applier('placement.set')
def _placement_set(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    if args['appliance_id'] not in data['appliances']:
        raise Rejected('unknown appliance %s' % args['appliance_id'])
    _site(data, args['site'])
    key = '%s/%s' % (args['appliance_id'], args['member'])
    data['placements'][key] = dict(args, placed_at=cmd['ts'], term=cmd['term'])
    return {}


@applier('placement.delete')
def _placement_delete(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    key = '%s/%s' % (cmd['args']['appliance_id'], cmd['args']['member'])
    return {'deleted': data['placements'].pop(key, None) is not None}


@applier('action.put')
def _action_put(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    if args['action_id'] in data['actions']:
        return {'created': False}
    _site(data, args['site'])
    _put_action(data, args, cmd)
    return {'created': True}


def _put_action(
    data: dict[str, Any], args: dict[str, Any], cmd: dict[str, Any]
) -> None:
    data['actions'][args['action_id']] = dict(
        args,
        state='pending',
        created_at=cmd['ts'],
        updated_at=cmd['ts'],
        term=cmd['term'],
    )


@applier('plan.apply')
def _plan_apply(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """A plan (or a chunk of one), applied as one entry.

    The term check in KnowledgeState.apply refuses a deposed leader's
    plan whole. An item that no longer fits the state (its appliance was
    deleted, its site left) is skipped and counted; the others apply.
    """
    args = cmd['args']
    skipped = 0
    for item in args.get('placements', []):
        site = data['sites'].get(item['site'])
        if item['appliance_id'] not in data['appliances'] or (
            site is None or site['status'] == 'left'
        ):
            skipped += 1
            continue
        key = '%s/%s' % (item['appliance_id'], item['member'])
        data['placements'][key] = dict(
            item, placed_at=cmd['ts'], term=cmd['term']
        )
    for item in args.get('removals', []):
        key = '%s/%s' % (item['appliance_id'], item['member'])
        data['placements'].pop(key, None)
    for item in args.get('actions', []):
        if item['action_id'] in data['actions'] or (
            item['site'] not in data['sites']
        ):
            skipped += 1
            continue
        _put_action(data, item, cmd)
    return {'skipped': skipped}


@applier('site.maintenance')
def _site_maintenance(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    site = _site(data, args['site'])
    before = site.get('maintenance', '')
    if args['state'] == 'drained' and before != 'draining':
        raise Rejected(
            'site %s is not draining (%s): drain it first'
            % (args['site'], before or 'in service')
        )
    site['maintenance'] = args['state']
    site['maintenance_changed_at'] = cmd['ts']
    return {'changed': before != args['state']}


@applier('action.prune')
def _action_prune(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """Drop the actions that ended before ``ended_before``.

    The time is in the command, so every member drops the same ones.
    """
    before = cmd['args']['ended_before']
    actions = data['actions']
    gone = [
        action_id
        for action_id, action in actions.items()
        if action['state'] in ('done', 'failed')
        and action['updated_at'] < before
    ]
    for action_id in gone:
        del actions[action_id]
    return {'pruned': len(gone)}


@applier('action.update')
def _action_update(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    action = data['actions'].get(args['action_id'])
    if action is None:
        raise Rejected('unknown action %s' % args['action_id'])
    if action['state'] in ('done', 'failed'):
        raise Rejected(
            'action %s already ended (%s)'
            % (args['action_id'], action['state'])
        )
    action.update(
        state=args['state'],
        result=args.get('result', {}),
        updated_at=cmd['ts'],
    )
    return {}


# The image registry's commands live in their own module; importing it
# registers their appliers.
from sodos.kb import catalog  # noqa: E402,F401
from sodos.kb import identity  # noqa: E402,F401
from sodos.kb import identity_keys  # noqa: E402,F401
from sodos.kb import images  # noqa: E402,F401
