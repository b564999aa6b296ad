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

This module holds what the proposers, the readers and the appliers
share; the commands are in :mod:`sodos.kb.sections.identity_keys`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from sodos.kb import shapes

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
        if shapes.is_up(sites, name) and ack['hash'] != repo['hash']
    )
