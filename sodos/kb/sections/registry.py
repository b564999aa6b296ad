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

"""Every command of the Knowledge Base, gathered from its family.

The proposers' checks (:mod:`sodos.kb.commands`) and the state machine
(:mod:`sodos.kb.state`) read the declarations from here; a family module
is known only if it is listed in :data:`FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sodos.kb.sections import actions
from sodos.kb.sections import adoption
from sodos.kb.sections import alerts
from sodos.kb.sections import appliances
from sodos.kb.sections import base
from sodos.kb.sections import catalog
from sodos.kb.sections import federation
from sodos.kb.sections import identity
from sodos.kb.sections import identity_keys
from sodos.kb.sections import images
from sodos.kb.sections import membership
from sodos.kb.sections import owners
from sodos.kb.sections import plans
from sodos.kb.sections import sites

FAMILIES: tuple[base.Family, ...] = (
    federation.COMMANDS,
    sites.COMMANDS,
    membership.COMMANDS,
    alerts.COMMANDS,
    appliances.COMMANDS,
    actions.COMMANDS,
    plans.COMMANDS,
    images.COMMANDS,
    catalog.COMMANDS,
    identity.COMMANDS,
    adoption.COMMANDS,
    identity_keys.COMMANDS,
    owners.COMMANDS,
)


def index(families: Iterable[base.Family]) -> dict[str, base.Declared]:
    """The declared commands by name.

    :raises ValueError: a name declared twice: which of the two appliers
        runs would depend on the order of the families.
    """
    found: dict[str, base.Declared] = {}
    for family in families:
        for declared in family.declared:
            if declared.name in found:
                raise ValueError(
                    'KB command %s is declared twice' % declared.name
                )
            found[declared.name] = declared
    return found


DECLARED = index(FAMILIES)
