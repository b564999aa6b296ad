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
site cut off from the federation does nothing, so that what the
federation re-placed elsewhere is not duplicated here.
"""

from __future__ import annotations

from sodos import roles


class ExecRole(roles.Role):
    name = 'exec'

    def cycle(self) -> str:
        if not self.knowmon.in_quorum():
            return 'exec: fenced (no quorum), not acting'
        site = self.conf.site_name
        pending = [
            a
            for a in self.knowmon.read('actions').values()
            if a['site'] == site and a['state'] == 'pending'
        ]
        if not pending:
            return 'exec: in quorum, no action pending for %s' % site
        kinds = sorted({a['kind'] for a in pending})
        return (
            'exec: in quorum, %d action(s) pending for %s (%s); no driver '
            'is configured to carry them out'
            % (len(pending), site, ', '.join(kinds))
        )
