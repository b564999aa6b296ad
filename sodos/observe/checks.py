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

"""sodos's backends for oslo.middleware's health check.

Each is a ``HealthcheckBaseExtension``, as oslo.middleware's own
(``disable_by_file``) are; they are handed what they look at (the
process's KnowMon client) through the middleware's local configuration,
which is what oslo.middleware passes its backends besides the config.
The verdicts are pure functions of what was read, for the tests.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_middleware.healthcheck import pluginbase

from sodos import exception

Result = pluginbase.HealthcheckResult
# The key of the middleware's local configuration holding the process's
# KnowMon client.
KNOWMON_KEY = 'sodos_knowmon'


def kb_verdict(status: dict[str, Any]) -> Result:
    """Healthy: the member caught up, in contact with a quorum, knowing
    its leader (what Exec needs before it acts)."""
    details = 'role %s, leader %s, term %s, applied %s of %s' % (
        status.get('role', 'unknown'),
        status.get('leader_site') or status.get('leader') or 'unknown',
        status.get('term', 0),
        status.get('last_applied', 0),
        status.get('commit_index', 0),
    )
    if not status.get('ready'):
        return Result(False, 'KB member not caught up with a leader', details)
    if not status.get('has_quorum'):
        return Result(False, 'KB member not in quorum', details)
    if not (status.get('leader_site') or status.get('leader')):
        return Result(False, 'KB member knows no leader', details)
    return Result(True, 'KB member in quorum', details)


class KnowledgeBaseCheck(pluginbase.HealthcheckBaseExtension):
    """The site's KB member, as its KnowMon reports it."""

    def __init__(self, oslo_conf: cfg.ConfigOpts, conf: dict[str, Any]):
        super().__init__(oslo_conf, conf)
        self.knowmon = conf[KNOWMON_KEY]

    def healthcheck(self, server_port: int) -> Result:
        try:
            status = self.knowmon.status()
        except exception.SodosError as exc:
            return Result(False, 'KnowMon unreachable', str(exc))
        return kb_verdict(status)


def schema_verdict(found: str | None, wanted: str | None) -> Result:
    """Healthy: the history database's schema is the one this code
    writes (an older one answers "no such table")."""
    if found == wanted:
        return Result(True, 'history database reachable', 'schema %s' % found)
    return Result(
        False,
        'history database schema not current',
        'schema %s, this release needs %s: run "sodos-manage db sync"'
        % (found or 'never migrated', wanted),
    )


class HistoryDatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """The site's history database ([database]connection)."""

    def healthcheck(self, server_port: int) -> Result:
        # Imported here: SQLAlchemy and alembic cost the processes that
        # never check the database.
        from sodos.db import api
        from sodos.db import migration

        try:
            found = migration.version(self.oslo_conf)
        except api.DatabaseError as exc:
            return Result(False, 'history database unreachable', str(exc))
        return schema_verdict(found, migration.head())
