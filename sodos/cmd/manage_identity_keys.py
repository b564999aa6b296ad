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

"""sodos-manage commands on the federation's shared fernet keys.

sodos-manage identity keys status [--format table|json]
sodos-manage identity keys replace --reason TEXT [--secret-changed] [--yes]

Only a federation in ``[identity]mode = shared`` has keys in the KB
(:mod:`sodos.kb.identity_keys`). ``status`` tells which keys the KB holds
and which sites hold them; nothing in it is secret (hashes and
fingerprints only). ``replace`` is the emergency answer to a key
repository that leaked: new keys for every site, so every token issued
so far becomes invalid. The new keys are encrypted with this site's
``[identity]secret`` before they leave the command, and the replacement
is reported done once the KB committed it; each site's Exec then writes
them into its Keystone's key repository.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from typing import Any

import prettytable
from oslo_config import cfg

from sodos import exception
from sodos.identity import crypto
from sodos.identity import fernet
from sodos.identity import schemas as identity_schemas
from sodos.kb import identity_keys
from sodos.knowmon import fernet_rotation
from sodos.knowmon import rpcapi

# What the operator types to confirm a replacement (or --yes).
CONFIRM = 'yes'
HASH_SHOWN = 12
REASON_MAX = int(identity_schemas.DESCRIPTION['maxLength'])
SITE_COLUMNS = ['site', 'status', 'holds', 'acknowledged_at', 'current']
NO_KEYS = (
    'no fernet keys in the Knowledge Base: the federation does not share '
    'them (the leader makes them once a site runs [identity]mode = shared)'
)


def _api(conf: cfg.ConfigOpts) -> rpcapi.KnowMonAPI:
    from sodos import rpc

    rpc.register_opts(conf)
    return rpcapi.KnowMonAPI(conf)


def _time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(float(epoch), datetime.UTC)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _secret_state(conf: cfg.ConfigOpts, key_ids: list[str]) -> str:
    """Whether this site's [identity]secret can read the keys: a site
    whose secret differs cannot write them (the usual cause of a lag)."""
    try:
        box = crypto.PasswordBox(conf.identity.secret)
    except crypto.SecretError:
        return 'not set'
    if key_ids == [box.key_id]:
        return 'matches'
    return 'differs (this site has key %s)' % box.key_id


# -- status -------------------------------------------------------------------


def report(
    conf: cfg.ConfigOpts, keys: dict[str, Any], sites: dict[str, Any]
) -> dict[str, Any]:
    """The keys and each site's acknowledgement, without any key."""
    repo = keys['repo']
    if repo is None:
        return {'keys': None, 'sites': [], 'lagging': []}
    lagging = identity_keys.lagging_sites(sites, keys)
    acks = keys['acks']
    rows = []
    for name in sorted(set(sites) | set(acks)):
        status = (sites.get(name) or {}).get('status', 'unknown')
        if status == 'left':
            continue
        ack = acks.get(name)
        rows.append(
            {
                'site': name,
                'status': status,
                'holds': ack['hash'][:HASH_SHOWN] if ack else None,
                'acknowledged_at': _time(ack['at']) if ack else None,
                'current': bool(ack) and ack['hash'] == repo['hash'],
                'lagging': name in lagging,
            }
        )
    key_ids = sorted({entry['key_id'] for entry in repo['keys'].values()})
    interval = float(conf.identity.fernet_rotation_interval)
    return {
        'keys': {
            'generation': repo['generation'],
            'hash': repo['hash'][:HASH_SHOWN],
            'count': len(repo['keys']),
            'rotated_at': _time(repo['rotated_at']),
            'changed_at': _time(repo['changed_at']),
            'reason': repo.get('reason'),
            'by': repo.get('by'),
            'key_ids': key_ids,
            'secret': _secret_state(conf, key_ids),
            'next_rotation_due': _time(repo['rotated_at'] + interval),
        },
        'revocation_events': len(keys['revocations']),
        'sites': rows,
        'lagging': lagging,
    }


def _as_text(data: dict[str, Any]) -> str:
    keys = data['keys']
    lagging = data['lagging']
    lines = [
        'Fernet keys:       generation %d, hash %s, %d keys'
        % (keys['generation'], keys['hash'], keys['count']),
        'Rotated at:        %s (%s, by %s)'
        % (keys['rotated_at'], keys['reason'], keys['by']),
        "Next rotation:     due at %s (this site's [identity]"
        'fernet_rotation_interval), %s'
        % (
            keys['next_rotation_due'],
            'held back while a site lags' if lagging else 'no site lags',
        ),
        "Encrypted with:    key %s; this site's [identity]secret %s"
        % (', '.join(keys['key_ids']), keys['secret']),
        'Revocation events: %d' % data['revocation_events'],
        'Lagging sites:     %s' % (', '.join(lagging) or 'none'),
    ]
    table = prettytable.PrettyTable(SITE_COLUMNS)
    table.align = 'l'
    for row in data['sites']:
        current = 'yes' if row['current'] else 'no'
        if row['lagging']:
            current += ' (lagging)'
        elif row['holds'] is None:
            current += ' (never acknowledged)'
        table.add_row(
            [
                row['site'],
                row['status'],
                row['holds'] or '',
                row['acknowledged_at'] or '',
                current,
            ]
        )
    lines.append(table.get_string())
    return '\n'.join(lines)


def keys_status(conf: cfg.ConfigOpts) -> int:
    api = _api(conf)
    try:
        keys = identity_keys.section(api.read('identity_keys'))
        sites = api.read('sites') or {}
    finally:
        api.close()
    data = report(conf, keys, sites)
    if conf.category.format == 'json':
        print(json.dumps(data, indent=2, sort_keys=True))
    elif data['keys'] is None:
        print(NO_KEYS)
    else:
        print(_as_text(data))
    return 0


# -- replace ------------------------------------------------------------------


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise exception.SodosError(
            '--reason is empty: say why the keys are replaced (it is '
            'recorded with them)'
        )
    if len(reason) > REASON_MAX or any(ord(c) < 32 for c in reason):
        raise exception.SodosError(
            '--reason must be one line of at most %d characters' % REASON_MAX
        )
    return reason


def _check_secret(box: crypto.PasswordBox, repo: dict[str, Any]) -> None:
    """Refuse keys the other sites could not read: sealed with another
    secret, every site would keep the leaked keys and refuse the new."""
    foreign = sorted(
        {entry['key_id'] for entry in repo['keys'].values()} - {box.key_id}
    )
    if foreign:
        raise exception.SodosError(
            "the federation's keys are encrypted with another "
            "[identity]secret (key %s, this site's is %s): new keys "
            'encrypted here could not be written by the other sites; run '
            "the command on a site with the federation's secret, or add "
            '--secret-changed if the secret was changed at every site'
            % (', '.join(foreign), box.key_id)
        )


def _confirmed(repo: dict[str, Any], sites: dict[str, Any]) -> bool:
    names = sorted(n for n, s in sites.items() if s.get('status') != 'left')
    print(
        "This replaces the federation's fernet keys (generation %d) with\n"
        'new ones. EVERY TOKEN OF EVERY SITE BECOMES INVALID as each site\n'
        'writes the new keys: users and scripts must log in again, the\n'
        'services authenticate again by themselves. A site that is down\n'
        'refuses the new tokens until it is back and has written them.\n'
        'Sites: %s' % (repo['generation'], ', '.join(names) or 'none')
    )
    try:
        answer = input('Type "%s" to replace the keys: ' % CONFIRM)
    except EOFError:
        answer = ''
    return answer.strip() == CONFIRM


def _commit(
    api: rpcapi.KnowMonClient, args: dict[str, Any], origin: str
) -> dict[str, Any]:
    try:
        return rpcapi.propose(api, 'identity.keys.set', args, origin)
    except exception.CommitTimeout as exc:
        raise exception.SodosError(
            '%s; it may still be committed: see "sodos-manage identity '
            'keys status" before trying again' % exc
        ) from exc


def keys_replace(conf: cfg.ConfigOpts) -> int:
    reason = _reason(conf.category.reason)
    if not conf.identity.secret:
        raise exception.SodosError(
            '[identity]secret is not set: the new keys are encrypted with '
            "the federation's secret before they leave this host, and "
            'every site decrypts them with its own; set it (the same at '
            'every site)'
        )
    box = crypto.PasswordBox(conf.identity.secret)
    max_keys = int(conf.identity.fernet_max_active_keys)
    api = _api(conf)
    try:
        repo = identity_keys.section(api.read('identity_keys'))['repo']
        if repo is None:
            raise exception.SodosError(NO_KEYS + ': nothing to replace')
        if not conf.category.secret_changed:
            _check_secret(box, repo)
        if not conf.category.yes and not _confirmed(
            repo, api.read('sites') or {}
        ):
            print('Not confirmed: the keys are unchanged.', file=sys.stderr)
            return 1
        args = fernet_rotation.replacement_args(box, max_keys, reason)
        result = _commit(api, args, conf.site_name)
    finally:
        api.close()
    print(
        'fernet keys replaced: generation %d (hash %s), reason: %s.\n'
        "Each site's Exec writes them within [identity]"
        'revocation_sync_interval;\nfrom then on that site refuses every '
        'token made before.\nFollow them with "sodos-manage identity keys '
        'status".'
        % (result['generation'], result['hash'][:HASH_SHOWN], reason)
    )
    return 0


COMMANDS: dict[str, Callable[[cfg.ConfigOpts], int]] = {
    'status': keys_status,
    'replace': keys_replace,
}


def run(conf: cfg.ConfigOpts) -> int:
    """Carry out ``sodos-manage identity keys ACTION``."""
    try:
        return COMMANDS[conf.category.action](conf)
    except (crypto.SecretError, fernet.RepositoryError) as exc:
        raise exception.SodosError(str(exc)) from exc


def add_parsers(objects: Any) -> None:
    group = objects.add_parser(
        'keys', help='the shared fernet keys ([identity]mode = shared)'
    )
    actions = group.add_subparsers(dest='action')
    actions.required = True
    status = actions.add_parser(
        'status', help='the keys in the KB and which sites hold them'
    )
    status.add_argument('--format', choices=['table', 'json'], default='table')
    replace = actions.add_parser(
        'replace',
        help='emergency: new keys everywhere, every token becomes invalid',
    )
    replace.add_argument(
        '--reason',
        required=True,
        metavar='TEXT',
        help='why (recorded with the keys)',
    )
    replace.add_argument(
        '--secret-changed',
        action='store_true',
        help='the current keys are encrypted with a former [identity]secret: '
        "every site has this site's secret now",
    )
    replace.add_argument(
        '--yes', action='store_true', help='do not ask for confirmation'
    )
