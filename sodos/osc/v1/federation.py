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

"""``openstack sodos federation show``: who leads, who votes, in which
regions, how many sites are up."""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import common

ORDER = (
    'leader',
    'term',
    'voters',
    'voter_count',
    'voter_regions',
    'regions',
    'majority_region',
    'warning',
    'paused',
    'consolidate',
)
# The API's failure_domains block, shown as fields of their own.
DOMAIN_FIELDS = ('voter_regions', 'regions', 'majority_region', 'warning')


class ShowFederation(command.ShowOne):
    """Show the federation: leader, voters, sites up and down."""

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        federation = dict(common.api(self.app).federation())
        sites = federation.pop('sites', None) or {}
        domains = federation.pop('failure_domains', None)
        # An older API has no such block: nothing to show then.
        if domains is not None:
            for key in DOMAIN_FIELDS:
                federation[key] = domains.get(key)
        for state in ('up', 'down', 'total'):
            federation['sites_%s' % state] = sites.get(state)
        return common.show(federation, ORDER)
