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

"""The leader's care of the shared identity keys (``[identity]mode = shared``).

At each KnowMon cycle of the leader:

* no repository in the KB yet: make one (as ``keystone-manage
  fernet_setup`` would) and commit it, encrypted;
* ``[identity]fernet_rotation_interval`` after the last rotation: rotate,
  if every site taking part holds the current keys (lock-step, see
  :mod:`sodos.kb.identity_keys`); otherwise wait;
* a site that does not hold the current keys
  :data:`LAG_ALERT_AFTER` seconds after they changed (or after it came
  back up) gets a ``fernet_keys`` alert, closed once it holds them;
* revocation events older than
  :data:`sodos.kb.identity_keys.REVOCATION_RETENTION` are pruned.

The leader needs ``[identity]secret`` to encrypt the new staged key; it
never decrypts the others (a rotation moves them as they are).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.identity import crypto
from sodos.identity import fernet
from sodos.kb import backend as kb_backend
from sodos.kb import identity_keys

LOG = logging.getLogger(__name__)
ALERT_KIND = 'fernet_keys'
NAMESPACE = uuid.UUID('5d0f3c52-8f4e-4a43-9b87-2a4f0c6e9d17')
# Seconds a site may take to write new keys before it is alerted about:
# many Exec look-ups ([identity]revocation_sync_interval), and a restart.
LAG_ALERT_AFTER = 600.0


def alert_id(site: str) -> str:
    return uuid.uuid5(NAMESPACE, 'fernet-lag:' + site).hex


def replacement_args(
    box: crypto.PasswordBox, max_active_keys: int, reason: str
) -> dict[str, Any]:
    """Arguments of an ``identity.keys.set`` that replaces every key.

    The emergency "revoke every token" of a compromised repository: each
    site drops its old keys as it writes the new ones, so a site that
    lags cannot validate the new tokens until it has them.
    """
    repo = fernet.initial_repo(max_active_keys)
    return {'keys': fernet.seal(box, repo), 'reason': reason}


class FernetRotation:
    def __init__(
        self, conf: cfg.ConfigOpts, backend: kb_backend.StateBackend
    ) -> None:
        self.conf = conf
        self.backend = backend

    def step(self, now: float | None = None) -> list[str]:
        """One leader cycle's work; what it did, for the cycle line."""
        now = time.time() if now is None else now
        keys = identity_keys.section(self.backend.read('identity_keys'))
        if keys['repo'] is None and self.conf.identity.mode != 'shared':
            return []  # the federation does not share keys
        done = self._keys(keys, now)
        done.extend(self._alerts(keys, now))
        done.extend(self._prune(keys, now))
        return done

    # -- keys ----------------------------------------------------------------

    def _box(self) -> crypto.PasswordBox:
        return crypto.PasswordBox(self.conf.identity.secret)

    def _keys(self, keys: dict[str, Any], now: float) -> list[str]:
        repo = keys['repo']
        max_keys = int(self.conf.identity.fernet_max_active_keys)
        if repo is not None:
            due = repo['rotated_at'] + float(
                self.conf.identity.fernet_rotation_interval
            )
            if now < due:
                return []
        try:
            box = self._box()
        except crypto.SecretError as exc:
            return ['fernet keys: %s' % exc]
        if repo is None:
            args = replacement_args(box, max_keys, 'initial')
            args['initial'] = True
            return [self._propose('identity.keys.set', args, 'initial keys')]
        lagging = identity_keys.lagging_sites(self.backend.read('sites'), keys)
        if lagging:
            return [
                'fernet key rotation waits for %s to hold generation %d'
                % (', '.join(lagging), repo['generation'])
            ]
        foreign = sorted(
            {e['key_id'] for e in repo['keys'].values()} - {box.key_id}
        )
        if foreign:
            return [
                'fernet keys not rotated: they are encrypted with another '
                '[identity]secret (key %s, this site has %s)'
                % (', '.join(foreign), box.key_id)
            ]
        current = {int(i): entry for i, entry in repo['keys'].items()}
        staged = fernet.seal(box, {0: fernet.generate_key()})['0']
        rotated = fernet.rotate(current, max_keys, staged)
        args = {
            'keys': {str(i): entry for i, entry in rotated.items()},
            'base_hash': repo['hash'],
        }
        return [self._propose('identity.keys.rotate', args, 'rotation')]

    def _propose(self, kind: str, args: dict[str, Any], what: str) -> str:
        try:
            result = self.backend.propose(kind, args, check=False)
        except exception.SodosError as exc:
            return 'fernet keys: %s not committed: %s' % (what, exc)
        if not result.get('ok'):
            return 'fernet keys: %s refused: %s' % (what, result.get('error'))
        if not result.get('changed'):
            return (
                'fernet keys: already set (generation %d)'
                % (result['generation'])
            )
        LOG.info(
            'fernet keys: %s committed: generation %d',
            what,
            result['generation'],
        )
        return 'fernet keys: %s, generation %d' % (what, result['generation'])

    # -- alerts --------------------------------------------------------------

    def _alerts(self, keys: dict[str, Any], now: float) -> list[str]:
        repo = keys['repo']
        sites = self.backend.read('sites')
        alerts = self.backend.read('alerts')
        lagging = set(identity_keys.lagging_sites(sites, keys))
        done = []
        for site in sorted(lagging):
            since = max(
                repo['changed_at'], sites[site].get('status_changed_at', 0)
            )
            aid = alert_id(site)
            if aid in alerts or now - since < LAG_ALERT_AFTER:
                continue
            message = (
                'site %s has not written the federation fernet keys '
                '(generation %d) for %.0f s: key rotation is held back and '
                'tokens made elsewhere may be refused there; check its '
                'sodos-exec log, [identity]secret and '
                '[identity]fernet_key_repository'
                % (site, repo['generation'], now - since)
            )
            result = self.backend.propose(
                'alert.raise',
                {
                    'alert_id': aid,
                    'site': site,
                    'kind': ALERT_KIND,
                    'severity': 'warning',
                    'message': message,
                },
                check=False,
            )
            done.append(
                'raised: fernet keys lag at %s' % site
                if result.get('ok')
                else 'could not raise an alert: %s' % result.get('error')
            )
        for aid, alert in sorted(alerts.items()):
            if alert.get('kind') != ALERT_KIND or alert['site'] in lagging:
                continue
            self.backend.propose(
                'alert.close',
                {'alert_id': aid, 'reason': 'the site holds the current keys'},
                check=False,
            )
            done.append('fernet keys alert of %s closed' % alert['site'])
        return done

    # -- revocations ---------------------------------------------------------

    def _prune(self, keys: dict[str, Any], now: float) -> list[str]:
        cutoff = identity_keys.time_at(
            now - identity_keys.REVOCATION_RETENTION
        )
        if not any(
            e['revoked_at'] < cutoff for e in keys['revocations'].values()
        ):
            return []
        result = self.backend.propose(
            'identity.revocation.prune',
            {'revoked_before': cutoff},
            check=False,
        )
        if not result.get('ok'):
            return ['could not prune revocations: %s' % result.get('error')]
        return ['pruned %d revocation events' % result['pruned']]
