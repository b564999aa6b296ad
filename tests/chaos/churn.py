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

"""A site leaving the federation and joining it again, as the ``churn``
fault asks: through the control API, as ``sodos-manage federation
leave`` does, and back with fresh Raft files under its name."""

from __future__ import annotations

import os
from typing import Any

from sodos.kb.raft import control
from sodos.kb.raft import store


class Churn:
    """A site leaving the federation and joining it again."""

    def __init__(self, fed: Any) -> None:
        self.fed = fed

    def leave(self, site: Any) -> None:
        control.call(site.address, self.fed.key, 'leave', site=site.name)

    def has_left(self, site: Any) -> bool:
        try:
            record = store.MembershipFile(site.data_dir).load() or {}
        except ValueError:
            return False
        return bool(record.get('left'))

    def rejoin(self, site: Any, via: Any) -> None:
        """Join ``site`` again through ``via``, or any other site if
        ``via`` goes away meanwhile (the next fault may be its)."""
        site.stop()
        aside = 0
        while os.path.exists('%s.left-%d' % (site.data_dir, aside)):
            aside += 1
        os.replace(site.data_dir, '%s.left-%d' % (site.data_dir, aside))
        others = [s.address for s in self.fed.sites.values() if s is not site]
        site.join = [via.address] + [a for a in others if a != via.address]
        site.write_config()
        site.start()
