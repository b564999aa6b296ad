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

"""``openstack sodos history ...``: the history store of the site that
serves the API (executed actions, closed alerts, monitoring samples).

Rows are shown with the columns the API returns, so that new fields of
the history store appear without a new client.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import common

FIRST = ('id', 'site', 'kind', 'type', 'state', 'at', 'time', 'timestamp')
TIMES = (
    'at',
    'time',
    'timestamp',
    'created_at',
    'updated_at',
    'raised_at',
    'closed_at',
    'acknowledged_at',
    'finished_at',
)


def _keys(records: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for record in records:
        seen.extend(k for k in record if k not in seen)
    return [k for k in FIRST if k in seen] + sorted(
        k for k in seen if k not in FIRST
    )


class _History(command.Lister):
    kind = ''
    site_filter: str | None = 'optional'

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        if self.site_filter:
            parser.add_argument(
                '--site',
                metavar='<site>',
                required=self.site_filter == 'required',
                help='rows of this site only',
            )
        parser.add_argument(
            '--limit',
            type=int,
            metavar='<n>',
            help='at most this many rows, newest first',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        records = common.api(self.app).history(
            self.kind,
            site=getattr(parsed_args, 'site', None),
            limit=parsed_args.limit,
        )
        keys = _keys(records)
        return common.listing(records, keys, TIMES)


class ActionHistory(_History):
    """List the actions executed in the federation."""

    kind = 'actions'


class AlertHistory(_History):
    """List the closed alerts."""

    kind = 'alerts'
    site_filter = None


class MonitoringHistory(_History):
    """List the monitoring samples of a site."""

    kind = 'monitoring'
    site_filter = 'required'
