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

"""Exec: the only role that talks to the site's OpenStack.

Fencing: Exec acts only while its KnowMon is in contact with a quorum; a
site cut off from the federation (or from its own KnowMon) does nothing,
so that what the federation re-placed elsewhere is not duplicated here.

Carrying out actions comes with the drivers (``sodos.exec.drivers``); for
now each cycle reports what it would act on.
"""

from __future__ import annotations

from typing import Any

from sodos import exception
from sodos import roles


class ExecRole(roles.Role):
    name = 'exec'

    def cycle(self) -> str:
        try:
            in_quorum = self.knowmon_api.in_quorum()
        except exception.SodosError as exc:
            return 'exec: fenced (%s), not acting' % exc
        if not in_quorum:
            return 'exec: fenced (no quorum), not acting'
        pending = self._pending()
        site, via = self.conf.site_name, self.knowmon_api.via
        if not pending:
            return 'exec: in quorum, no action pending for %s (KB read %s)' % (
                site,
                _over(via),
            )
        kinds = sorted({a['kind'] for a in pending})
        return (
            'exec: in quorum, %d action(s) pending for %s (%s) (KB read %s); '
            'not acting: acting on them comes with the drivers'
            % (len(pending), site, ', '.join(kinds), _over(via))
        )

    def _pending(self) -> list[dict[str, Any]]:
        site = self.conf.site_name
        return [
            action
            for action in self.knowmon_api.read('actions').values()
            if action['site'] == site and action['state'] == 'pending'
        ]


def _over(via: str) -> str:
    return 'over RPC' if via == 'RPC' else via
