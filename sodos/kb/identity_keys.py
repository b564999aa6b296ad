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

"""What makes one token valid at every site: shared keys, revocations.

Section ``identity_keys`` of the KB (``[identity]mode = shared``)::

    repo         {keys: {index: {ciphertext, key_id, fingerprint}},
                  hash, generation, changed_at, rotated_at, reason, by}
    acks         {site: {hash, at}}     the repository each site holds
    revocations  {key: {Keystone revocation_event columns..., site}}
    revocations_pruned_before           the last prune's cut-off

The keys are encrypted with the federation secret
(:mod:`sodos.identity.fernet`); nothing here can read them, and the
command schemas refuse a key in clear.

Lock-step rotation: a site that holds the current repository holds its
staged key, which the next rotation makes primary, so it validates the
tokens made after one rotation but not after two. ``identity.keys.rotate``
is therefore refused while a site that takes part (it has acknowledged
some repository) and is up does not hold the current one. A site that
never acknowledged has never shared a token: it takes whatever is current
when it starts.

Revocation events are stored once per content (a hash of the columns,
not Keystone's per-site row id), so the same revocation reported by two
sites, or twice, is one entry. They only matter while a token they
revoke could still be valid: the leader prunes them, cut-off in the
command, after :data:`REVOCATION_RETENTION`.

Appliers are deterministic, as every applier (:mod:`sodos.kb.state`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from sodos.identity import fernet
from sodos.kb import state

Result = dict[str, Any]
SECTION = 'identity_keys'
# The columns of Keystone's revocation_event table sodos copies: all but
# the per-site autoincrement id (keystone/revoke/backends/sql.py).
EVENT_FIELDS = (
    'domain_id',
    'project_id',
    'user_id',
    'role_id',
    'trust_id',
    'consumer_id',
    'access_token_id',
    'issued_before',
    'expires_at',
    'revoked_at',
    'audit_id',
    'audit_chain_id',
)
TIME_FIELDS = ('issued_before', 'expires_at', 'revoked_at')
# Keystone prunes its own events ``[token]expiration + [revoke]
# expiration_buffer`` after they were made (3600 + 1800 s by default);
# the KB keeps them as long, and Exec copies nothing older, so that a
# site never re-inserts what its Keystone has just pruned.
REVOCATION_RETENTION = 3600.0 + 1800.0
_TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'


# -- pure helpers, shared with the proposers --------------------------------


def format_time(moment: datetime.datetime) -> str:
    """A naive UTC datetime (Keystone's columns) as the KB stores it."""
    return moment.strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, _TIME_FORMAT)


def time_at(epoch: float) -> str:
    """A Unix time as the KB stores times."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return format_time(moment.replace(tzinfo=None))


def event_content(event: dict[str, Any]) -> dict[str, Any]:
    """The columns of an event that say what it revokes (nulls left out)."""
    return {k: event[k] for k in EVENT_FIELDS if event.get(k) is not None}


def event_key(event: dict[str, Any]) -> str:
    """The name of an event's content, the same at every site."""
    text = json.dumps(
        event_content(event), sort_keys=True, separators=(',', ':')
    )
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


def section(data: dict[str, Any] | None) -> dict[str, Any]:
    """The section with every part present (read-only use)."""
    out = dict(data or {})
    out.setdefault('repo', None)
    out.setdefault('acks', {})
    out.setdefault('revocations', {})
    out.setdefault('revocations_pruned_before', None)
    return out


def lagging_sites(sites: dict[str, Any], keys: dict[str, Any]) -> list[str]:
    """Sites up, taking part, that do not hold the current repository."""
    repo = keys.get('repo')
    if repo is None:
        return []
    return sorted(
        name
        for name, ack in (keys.get('acks') or {}).items()
        if (sites.get(name) or {}).get('status') == 'up'
        and ack['hash'] != repo['hash']
    )


# -- appliers ---------------------------------------------------------------


def _section(data: dict[str, Any]) -> dict[str, Any]:
    # A state snapshotted before the section existed has none yet.
    found: dict[str, Any] = data.setdefault(SECTION, {})
    found.setdefault('repo', None)
    found.setdefault('acks', {})
    found.setdefault('revocations', {})
    found.setdefault('revocations_pruned_before', None)
    return found


def _check_keys(keys: dict[str, Any]) -> str:
    """The repository's hash; refused if two keys are the same."""
    prints = [entry['fingerprint'] for entry in keys.values()]
    if len(set(prints)) != len(prints):
        raise state.Rejected('the same key appears twice in the repository')
    return fernet.sealed_hash(keys)


def _install(
    sec: dict[str, Any], keys: dict[str, Any], cmd: dict[str, Any], why: str
) -> Result:
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


@state.applier('identity.keys.set')
def _keys_set(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
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
        raise state.Rejected(
            'not a rotation of the current keys: the staged key 0 must '
            'become key %s' % primary
        )
    if new['0']['fingerprint'] in {e['fingerprint'] for e in old.values()}:
        raise state.Rejected(
            'not a rotation of the current keys: the new staged key 0 '
            'must be a new key'
        )
    kept = sorted(int(i) for i in new if i not in ('0', primary))
    if any(new[str(i)] != old.get(str(i)) for i in kept):
        raise state.Rejected(
            'not a rotation of the current keys: secondary keys changed'
        )
    older = sorted(int(i) for i in old if i != '0')
    if kept and kept != older[len(older) - len(kept) :]:
        raise state.Rejected(
            'not a rotation of the current keys: the oldest keys must be '
            'the ones dropped'
        )


@state.applier('identity.keys.rotate')
def _keys_rotate(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    sec = _section(data)
    old = sec['repo']
    if old is None:
        raise state.Rejected('no fernet keys in the KB yet: nothing to rotate')
    if args['base_hash'] != old['hash']:
        raise state.Rejected(
            'rotation made from keys %s, but the KB holds %s (generation %d)'
            % (args['base_hash'][:12], old['hash'][:12], old['generation'])
        )
    lagging = lagging_sites(data['sites'], sec)
    if lagging:
        raise state.Rejected(
            'lock-step: site(s) %s do not hold the current keys '
            '(generation %d) yet; a second rotation would leave them '
            'unable to validate new tokens'
            % (', '.join(lagging), old['generation'])
        )
    _check_rotation(old['keys'], args['keys'])
    return _install(sec, args['keys'], cmd, 'rotation')


@state.applier('identity.keys.ack')
def _keys_ack(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    args = cmd['args']
    site = state.own_site(data, cmd, 'acknowledge keys for')
    sec = _section(data)
    repo = sec['repo']
    current = repo is not None and repo['hash'] == args['hash']
    old = sec['acks'].get(site)
    if old is not None and old['hash'] == args['hash']:
        return {'changed': False, 'current': current}
    sec['acks'][site] = {'hash': args['hash'], 'at': cmd['ts']}
    return {'changed': True, 'current': current}


@state.applier('identity.revocation.add')
def _revocation_add(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    sec = _section(data)
    cutoff = sec['revocations_pruned_before']
    events = sec['revocations']
    counts = {'added': 0, 'duplicates': 0, 'expired': 0}
    for event in cmd['args']['events']:
        content = event_content(event)
        if cutoff is not None and content['revoked_at'] < cutoff:
            # Pruned already: adding it back would only make it come
            # back at every site until the next prune.
            counts['expired'] += 1
            continue
        key = event_key(content)
        if key in events:
            counts['duplicates'] += 1
            continue
        events[key] = dict(content, site=cmd['origin'])
        counts['added'] += 1
    return counts


@state.applier('identity.revocation.prune')
def _revocation_prune(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
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
