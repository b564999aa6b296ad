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

"""sodos-status upgrade check: is this site's configuration fit to run?"""

from __future__ import annotations

import os
import sys

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck

from sodos import exception
from sodos import service
from sodos.kb.raft import admin

Result = upgradecheck.Result
Code = upgradecheck.Code


class Checks(upgradecheck.UpgradeCommands):
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def _values(self) -> upgradecheck.Result:
        try:
            service.check_values(self.conf)
        except exception.ConfigError as exc:
            return Result(Code.FAILURE, str(exc))
        return Result(Code.SUCCESS)

    def _raft_settings(self) -> upgradecheck.Result:
        # [raft]address set, password and TLS set or development mode on
        # loopback only, certificates sound, timeouts consistent: what
        # the member checks too.
        try:
            insecure = admin.check_settings(self.conf)
        except (exception.ConfigError, cfg.Error) as exc:
            return Result(Code.FAILURE, str(exc))
        if insecure:
            return Result(
                Code.WARNING,
                '[raft]insecure_dev_mode is on (development only): '
                + '; '.join(insecure),
            )
        return Result(Code.SUCCESS)

    def _data_dir(self) -> upgradecheck.Result:
        try:
            path = self.conf.raft.data_dir
        except cfg.Error as exc:
            return Result(Code.FAILURE, '[raft]data_dir: %s' % exc)
        existing = path
        while existing and not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing or '.') or not os.access(
            existing or '.', os.W_OK | os.X_OK
        ):
            return Result(
                Code.FAILURE,
                '[raft]data_dir %s cannot be created or written' % path,
            )
        return Result(Code.SUCCESS)

    def _history_schema(self) -> upgradecheck.Result:
        # The site's own health check says the same: a database that
        # was never synced answers "no such table" to the history.
        from sodos.observe import checks

        result = checks.HistoryDatabaseCheck(self.conf, {}).healthcheck(0)
        if result.available:
            return Result(Code.SUCCESS)
        return Result(Code.FAILURE, '%s: %s' % (result.reason, result.details))

    _upgrade_checks = (
        ('Configuration values', _values),
        ('Raft settings', _raft_settings),
        ('Raft data directory', _data_dir),
        ('History database schema', _history_schema),
    )


def main(argv: list[str] | None = None) -> int:
    conf = cfg.ConfigOpts()
    service.register_opts(conf)
    try:
        return upgradecheck.main(
            conf,
            project='sodos',
            upgrade_command=Checks(conf),
            argv=sys.argv[1:] if argv is None else argv,
        )
    except cfg.Error as exc:
        print('sodos-status: error: %s' % exc, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
