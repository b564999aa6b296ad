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

"""Exec's side of the shared identity: this site's keys and revocations.

Only with ``[identity]mode = shared``. Every
``[identity]revocation_sync_interval`` Exec reads section
``identity_keys`` of the KB and:

* keys: when the KB's repository differs from the one in
  ``[identity]fernet_key_repository``, it decrypts it with
  ``[identity]secret`` and writes it there whole and atomically
  (:func:`sodos.identity.fernet.write_repo`; Keystone reads the directory
  at each token operation, no restart), then acknowledges the hash it
  holds (``identity.keys.ack``): the leader rotates again only once every
  site has;
* revocations: the events of this site's Keystone that the KB lacks are
  added to it, and those the KB has that this Keystone lacks are
  inserted into its table, compared by content. Events older than the
  retention (:data:`sodos.kb.identity_keys.REVOCATION_RETENTION`) are
  left alone both ways: Keystone prunes them itself.

Fenced like every Exec action: nothing is done without a quorum.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

import fastjsonschema
from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import periodic
from sodos.identity import crypto
from sodos.identity import fernet
from sodos.identity import fernet_repo
from sodos.identity import key_schemas
from sodos.kb import identity_keys
from sodos.knowmon import rpcapi

if TYPE_CHECKING:
    from sodos.exec.drivers import base as exec_driver

LOG = log.getLogger(__name__)
REQUIRED = ('secret', 'fernet_key_repository', 'keystone_database_connection')


class RevocationError(Exception):
    """The revocation table cannot be used; the message says why."""


class RevocationStore(Protocol):
    """A site's revocation events (keystone_revocations.RevocationTable);
    raises :class:`RevocationError` when it cannot."""

    def list_events(self, since: str) -> list[dict[str, Any]]: ...

    def insert(self, events: list[dict[str, Any]]) -> int: ...

    def close(self) -> None: ...


def make(
    conf: cfg.ConfigOpts,
    site_driver: exec_driver.Driver,
    knowmon: Callable[[], rpcapi.KnowMonClient],
) -> KeySync | None:
    """The keys and revocations loop, None unless the mode is shared
    and the site's driver keeps revocation events.

    :raises ConfigError: naming the options shared mode needs and lacks.
    """
    if conf.identity.mode != 'shared':
        return None
    table = site_driver.revocation_store()
    if table is None:
        LOG.info(
            'identity keys: the %s Exec driver has no Keystone: fernet keys '
            'and revocation events are not kept at this site',
            conf.exec.driver,
        )
        return None
    missing = [name for name in REQUIRED if not getattr(conf.identity, name)]
    if missing:
        # The table was not opened yet: closing it only drops the object.
        table.close()
        raise exception.ConfigError(
            '[identity]mode = shared needs %s: set %s in the [identity] '
            'section (the same secret at every site)'
            % (
                ', '.join('[identity]%s' % name for name in missing),
                'it' if len(missing) == 1 else 'them',
            )
        )
    return KeySync(conf, knowmon, table)


class KeySync:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        knowmon: Callable[[], rpcapi.KnowMonClient],
        revocations: RevocationStore,
    ) -> None:
        self.conf = conf
        self.site = conf.site_name
        self._knowmon = knowmon
        self.revocations = revocations
        self._interval = periodic.ReloadedInterval(
            lambda: self.conf.identity.revocation_sync_interval,
            '[identity]revocation_sync_interval',
            2.0,
        )
        self.periodic = periodic.Periodic(
            'exec-identity-keys', self.run_once, self.interval
        )
        self._box: crypto.PasswordBox | None = None
        self._box_secret: str | None = None
        self.last_line = ''
        # Something failed in this look: the line is logged as a warning.
        self._trouble = False

    def interval(self) -> float:
        """``[identity]revocation_sync_interval``, read at every look."""
        return self._interval()

    def start(self) -> None:
        self.periodic.start()

    def stop(self) -> None:
        self.periodic.stop()
        self.revocations.close()

    def run_once(self, now: float | None = None) -> str:
        api = self._knowmon()
        if not api.in_quorum():
            return self._say('identity keys: fenced (no quorum), not acting')
        keys = identity_keys.section(api.read('identity_keys'))
        self._trouble = False
        line = 'identity keys: %s; revocations: %s' % (
            self.sync_keys(api, keys),
            self.sync_revocations(
                api, keys, time.time() if now is None else now
            ),
        )
        return self._say(line)

    def _say(self, line: str) -> str:
        # One line per change of what the loop does, not per look (it
        # looks every few seconds).
        if line != self.last_line:
            LOG.log(logging.WARNING if self._trouble else logging.INFO, line)
        self.last_line = line
        return line

    # -- keys ----------------------------------------------------------------

    def _unseal(self, sealed: dict[str, Any]) -> dict[int, str]:
        secret = self.conf.identity.secret
        if self._box is None or self._box_secret != secret:
            self._box = crypto.PasswordBox(secret)
            self._box_secret = secret
        return fernet.unseal(self._box, sealed)

    def sync_keys(
        self, api: rpcapi.KnowMonClient, keys: dict[str, Any]
    ) -> str:
        repo = keys['repo']
        if repo is None:
            return 'none in the KB yet'
        directory = self.conf.identity.fernet_key_repository
        generation = repo['generation']
        try:
            held = fernet.content_hash(fernet_repo.read_repo(directory))
            wrote = held != repo['hash']
            if wrote:
                fernet_repo.write_repo(directory, self._unseal(repo['keys']))
                held = fernet.content_hash(fernet_repo.read_repo(directory))
        except (crypto.SecretError, fernet.RepositoryError) as exc:
            self._trouble = True
            return 'generation %d NOT written: %s' % (generation, exc)
        if held != repo['hash']:
            self._trouble = True
            return 'generation %d written, but %s holds other keys' % (
                generation,
                directory,
            )
        done = 'generation %d %s' % (
            generation,
            'written' if wrote else 'held',
        )
        ack = keys['acks'].get(self.site)
        if ack is not None and ack['hash'] == held:
            return done
        try:
            rpcapi.propose(
                api,
                'identity.keys.ack',
                {'site': self.site, 'hash': held},
                self.site,
            )
        except exception.SodosError as exc:
            self._trouble = True
            return '%s, not acknowledged: %s' % (done, exc)
        return done + ' and acknowledged'

    # -- revocations ---------------------------------------------------------

    def sync_revocations(
        self, api: rpcapi.KnowMonClient, keys: dict[str, Any], now: float
    ) -> str:
        cutoff = identity_keys.time_at(
            now - identity_keys.REVOCATION_RETENTION
        )
        pruned = keys['revocations_pruned_before']
        if pruned is not None and pruned > cutoff:
            cutoff = pruned
        try:
            found = self.revocations.list_events(cutoff)
        except RevocationError as exc:
            self._trouble = True
            return 'not read: %s' % exc
        local = {identity_keys.event_key(e): e for e in found if _usable(e)}
        shared = {
            key: identity_keys.event_content(event)
            for key, event in keys['revocations'].items()
            if event['revoked_at'] >= cutoff
        }
        to_kb = [local[k] for k in sorted(set(local) - set(shared))]
        to_site = [shared[k] for k in sorted(set(shared) - set(local))]
        parts = []
        try:
            chunk = key_schemas.EVENTS_CHUNK
            for start in range(0, len(to_kb), chunk):
                rpcapi.propose(
                    api,
                    'identity.revocation.add',
                    {'events': to_kb[start : start + chunk]},
                    self.site,
                )
            if to_kb:
                parts.append('%d added to the KB' % len(to_kb))
            if to_site:
                self.revocations.insert(to_site)
                parts.append('%d copied into Keystone' % len(to_site))
        except (
            exception.SodosError,
            RevocationError,
        ) as exc:  # tried again at the next look
            self._trouble = True
            parts.append('failed: %s' % exc)
        if len(local) < len(found):
            # A row Keystone would not write (an empty id, say): one bad
            # row must not hold back the others.
            parts.append(
                '%d unusable row(s) left out' % (len(found) - len(local))
            )
        return ', '.join(parts) or '%d in line' % len(shared)


_EVENT = fastjsonschema.compile(key_schemas.REVOCATION_EVENT)


def _usable(event: dict[str, Any]) -> bool:
    try:
        _EVENT(event)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True
