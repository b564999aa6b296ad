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

"""Command names from before OpenStackClient's noun-verb names.

Each old name runs the new command unchanged, says on stderr which name
to use, and is left out of ``openstack command list``'s help listing
(cliff's ``deprecated``), so scripts keep working for a release while
people learn the new name.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import federation
from sodos.osc.v1 import history
from sodos.osc.v1 import image
from sodos.osc.v1 import whatif


def renamed(new: type[command.Command], new_name: str) -> type[Any]:
    """A deprecated copy of ``new`` under its old name."""

    class Renamed(new):  # type: ignore[valid-type,misc]
        __doc__ = 'Deprecated: use "openstack %s".' % new_name
        deprecated = True

        def take_action(self, parsed_args: argparse.Namespace) -> Any:
            self.app.stderr.write(
                '"openstack %s" is deprecated: use "openstack %s"\n'
                % (self.cmd_name, new_name)
            )
            return super().take_action(parsed_args)

    Renamed.__name__ = Renamed.__qualname__ = 'Renamed' + new.__name__
    return Renamed


FederationStatus = renamed(federation.ShowFederation, 'sodos federation show')
ImageStatus = renamed(image.ImageStatus, 'sodos image copy list')
WhatIf = renamed(whatif.WhatIf, 'sodos whatif show')
ActionHistory = renamed(history.ActionHistory, 'sodos history action list')
AlertHistory = renamed(history.AlertHistory, 'sodos history alert list')
MonitoringHistory = renamed(
    history.MonitoringHistory, 'sodos history monitoring list'
)
