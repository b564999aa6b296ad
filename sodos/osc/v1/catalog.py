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

"""``openstack sodos catalog list``: every site's endpoints, by region."""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import common

LIST_KEYS = (
    'region',
    'site',
    'service_type',
    'service_name',
    'interface',
    'url',
)


class ListCatalog(command.Lister):
    """List the endpoints of every site of the federation."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--region',
            metavar='<region>',
            help='only the endpoints in this region',
        )
        parser.add_argument(
            '--service-type',
            metavar='<type>',
            help='only the endpoints of services of this type (image, '
            'compute...)',
        )
        parser.add_argument(
            '--site', metavar='<site>', help='only the endpoints of this site'
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        rows = common.api(self.app).catalog_list(
            region=parsed_args.region,
            service_type=parsed_args.service_type,
            site=parsed_args.site,
        )
        headings = tuple(
            'URL' if key == 'url' else common.heading(key) for key in LIST_KEYS
        )
        return headings, common.rows(rows, LIST_KEYS)
