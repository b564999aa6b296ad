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

"""The shared-identity commands: fernet keys and revocations.

The section's shape, the lock-step rule and the helpers the proposers
share are described in :mod:`sodos.kb.identity_keys`. The appliers are
deterministic, as every applier (:mod:`sodos.kb.sections.base`).
"""

from __future__ import annotations

from typing import Any

from sodos.identity import fernet
from sodos.identity import key_schemas
from sodos.identity import schemas as ischemas
from sodos.kb import identity_keys
from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()


def _section(data: dict[str, Any]) -> dict[str, Any]:
    # A state snapshotted before the section existed has none yet.
    found: dict[str, Any] = data.setdefault(identity_keys.SECTION, {})
    found.setdefault('repo', None)
    found.setdefault('acks', {})
    found.setdefault('revocations', {})
    found.setdefault('revocations_pruned_before', None)
    return found


def _check_keys(keys: dict[str, Any]) -> str:
    """The repository's hash; refused if two keys are the same."""
    prints = [entry['fingerprint'] for entry in keys.values()]
    if len(set(prints)) != len(prints):
        raise base.Rejected('the same key appears twice in the repository')
    return fernet.sealed_hash(keys)


def _install(
    sec: dict[str, Any], keys: dict[str, Any], cmd: dict[str, Any], why: str
) -> base.Result:
    old = sec['repo']
    digest = _check_keys(keys)
    generation = old['generation'] + 1 if old else 1
    sec['repo'] = {
        'keys': keys,
        'hash': digest,
        'generation': generation,
        'changed_at': cmd['ts'],
        'rotated_at': cmd['ts'],
        'reason': why,
        'by': cmd['origin'],
    }
    return {'changed': True, 'hash': digest, 'generation': generation}


# The leader's first repository (initial: only if there is none yet),
# or an operator's replacement of a compromised one.
@COMMANDS.command(
    'identity.keys.set',
    schemas.obj(
        ['keys'],
        keys=key_schemas.REPO,
        initial={'type': 'boolean'},
        reason=ischemas.DESCRIPTION,
    ),
)
def _keys_set(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    sec = _section(data)
    old = sec['repo']
    digest = _check_keys(args['keys'])
    if old is not None and (args.get('initial') or old['hash'] == digest):
        # The initial repository of a leader that lost a race, or a
        # replay: the current one stays.
        return {
            'changed': False,
            'hash': old['hash'],
            'generation': old['generation'],
        }
    why = args.get('reason') or ('initial' if old is None else 'replaced')
    return _install(sec, args['keys'], cmd, why)


def _check_rotation(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Refuse a ``new`` repository that is not one rotation of ``old``."""
    primary = str(max(int(i) for i in old) + 1)
    if new.get(primary) != old['0']:
        raise base.Rejected(
            'not a rotation of the current keys: the staged key 0 must '
            'become key %s' % primary
        )
    if new['0']['fingerprint'] in {e['fingerprint'] for e in old.values()}:
        raise base.Rejected(
            'not a rotation of the current keys: the new staged key 0 '
            'must be a new key'
        )
    kept = sorted(int(i) for i in new if i not in ('0', primary))
    if any(new[str(i)] != old.get(str(i)) for i in kept):
        raise base.Rejected(
            'not a rotation of the current keys: secondary keys changed'
        )
    older = sorted(int(i) for i in old if i != '0')
    if kept and kept != older[len(older) - len(kept) :]:
        raise base.Rejected(
            'not a rotation of the current keys: the oldest keys must be '
            'the ones dropped'
        )


# Made by the leader from the repository named by base_hash.
@COMMANDS.command(
    'identity.keys.rotate',
    schemas.obj(
        ['keys', 'base_hash'],
        keys=key_schemas.REPO,
        base_hash=key_schemas.SHA256,
    ),
    leader_only=True,
)
def _keys_rotate(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    sec = _section(data)
    old = sec['repo']
    if old is None:
        raise base.Rejected('no fernet keys in the KB yet: nothing to rotate')
    if args['base_hash'] != old['hash']:
        raise base.Rejected(
            'rotation made from keys %s, but the KB holds %s (generation %d)'
            % (args['base_hash'][:12], old['hash'][:12], old['generation'])
        )
    lagging = identity_keys.lagging_sites(data['sites'], sec)
    if lagging:
        raise base.Rejected(
            'lock-step: site(s) %s do not hold the current keys '
            '(generation %d) yet; a second rotation would leave them '
            'unable to validate new tokens'
            % (', '.join(lagging), old['generation'])
        )
    _check_rotation(old['keys'], args['keys'])
    return _install(sec, args['keys'], cmd, 'rotation')


# A site's Exec: the repository it holds.
@COMMANDS.command(
    'identity.keys.ack',
    schemas.obj(['site', 'hash'], site=ischemas.SITE, hash=key_schemas.SHA256),
)
def _keys_ack(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    site = base.own_site(data, cmd, 'acknowledge keys for')
    sec = _section(data)
    repo = sec['repo']
    current = repo is not None and repo['hash'] == args['hash']
    old = sec['acks'].get(site)
    if old is not None and old['hash'] == args['hash']:
        return {'changed': False, 'current': current}
    sec['acks'][site] = {'hash': args['hash'], 'at': cmd['ts']}
    return {'changed': True, 'current': current}


@COMMANDS.command(
    'identity.revocation.add',
    schemas.obj(
        ['events'],
        events={
            'type': 'array',
            'minItems': 1,
            'maxItems': key_schemas.EVENTS_CHUNK,
            'items': key_schemas.REVOCATION_EVENT,
        },
    ),
)
def _revocation_add(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    sec = _section(data)
    cutoff = sec['revocations_pruned_before']
    events = sec['revocations']
    counts = {'added': 0, 'duplicates': 0, 'expired': 0}
    for event in cmd['args']['events']:
        content = identity_keys.event_content(event)
        if cutoff is not None and content['revoked_at'] < cutoff:
            # Pruned already: adding it back would only make it come
            # back at every site until the next prune.
            counts['expired'] += 1
            continue
        key = identity_keys.event_key(content)
        if key in events:
            counts['duplicates'] += 1
            continue
        events[key] = dict(content, site=cmd['origin'])
        counts['added'] += 1
    return counts


@COMMANDS.command(
    'identity.revocation.prune',
    schemas.obj(['revoked_before'], revoked_before=key_schemas.TIMESTAMP),
    leader_only=True,
)
def _revocation_prune(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    sec = _section(data)
    cutoff = cmd['args']['revoked_before']
    events = sec['revocations']
    gone = sorted(k for k, e in events.items() if e['revoked_at'] < cutoff)
    for key in gone:
        del events[key]
    previous = sec['revocations_pruned_before']
    if previous is None or cutoff > previous:
        sec['revocations_pruned_before'] = cutoff
    return {'pruned': len(gone)}
