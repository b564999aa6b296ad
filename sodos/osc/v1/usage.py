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

"""``openstack sodos usage list|show``: the accounting (vCPU-hours,
RAM-GB-hours, member-hours) per owner, project, site and hour.

The period is given as the API takes it (ISO 8601 or seconds since the
epoch) and checked there, so that the error names the field the same
way for every client.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import common

METRICS = ('vcpu_hours', 'ram_gb_hours', 'member_hours')
GROUPS = ('hour', 'owner', 'project', 'site')


def _filters(parser: argparse.ArgumentParser, owner: bool = True) -> None:
    if owner:
        parser.add_argument(
            '--owner',
            metavar='<owner>',
            help="this owner's usage only (its Keystone domain id)",
        )
    parser.add_argument(
        '--project',
        metavar='<project>',
        help="this project's usage only (its global id)",
    )
    parser.add_argument(
        '--site', metavar='<site>', help='usage at this site only'
    )
    parser.add_argument(
        '--start',
        metavar='<time>',
        help='from the hour starting at this time (ISO 8601, UTC '
        'unless said, or seconds since the epoch)',
    )
    parser.add_argument(
        '--end',
        metavar='<time>',
        help='up to the hour starting at this time, excluded',
    )


def _ask(app: Any, args: argparse.Namespace, by: str) -> dict[str, Any]:
    """The API's usage answer for the filters both commands take."""
    return common.api(app).usage(
        owner=args.owner,
        project=args.project,
        site=args.site,
        start=args.start,
        end=args.end,
        by=by,
    )


class ListUsage(command.Lister):
    """List usage per owner, project and site (or as --by says)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _filters(parser)
        parser.add_argument(
            '--by',
            metavar='<fields>',
            default='owner,project,site',
            help='what to sum per: a comma list of %s (default '
            'owner,project,site)' % ', '.join(GROUPS),
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        answer = _ask(self.app, parsed_args, parsed_args.by)
        keys = list(answer['by']) + list(METRICS)
        return common.listing(answer['usage'], keys, ('hour',))


class ShowUsage(command.ShowOne):
    """Show an owner's usage over a period: its totals and per site."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'owner',
            metavar='<owner>',
            help='the owner (its Keystone domain id)',
        )
        _filters(parser, owner=False)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        answer = _ask(self.app, parsed_args, 'site')
        per_site = answer['usage']
        record: dict[str, Any] = {
            'owner': parsed_args.owner,
            'start': answer.get('start'),
            'end': answer.get('end'),
            'sites': per_site,
        }
        for metric in METRICS:
            record[metric] = round(sum(r[metric] for r in per_site), 6)
        if parsed_args.project:
            record['project'] = parsed_args.project
        return common.show(
            record,
            ('owner', 'project') + METRICS + ('start', 'end'),
            ('start', 'end'),
            {'sites': common.RowsColumn},
        )
