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

"""``openstack sodos whatif show``: what the federation would do if sites
failed or were drained. Read-only: the API plans and commits nothing."""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc.v1 import common

ORDER = (
    'events',
    'affected_appliances',
    'moves',
    'unplaceable',
    'capacity_left',
)


class WhatIf(command.ShowOne):
    """Ask what would move, and what could not be placed, if sites
    failed or were drained."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--fail-site',
            dest='fail_sites',
            action='append',
            default=[],
            metavar='<site>',
            help='a site that fails (repeat for several)',
        )
        parser.add_argument(
            '--drain-site',
            dest='drain_sites',
            action='append',
            default=[],
            metavar='<site>',
            help='a site that is drained (repeat for several)',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        if not parsed_args.fail_sites and not parsed_args.drain_sites:
            raise exceptions.CommandError(
                'say what happens: give --fail-site or --drain-site'
            )
        result = common.api(self.app).whatif(
            parsed_args.fail_sites, parsed_args.drain_sites
        )
        return common.show(result, ORDER)
