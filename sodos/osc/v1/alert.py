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

"""``openstack sodos alert ...``: the alerts KnowMon raised.

Acknowledging tells the other operators someone is on it; the alert
stays open until KnowMon sees its cause gone.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import common

LIST_KEYS = ('id', 'kind', 'site', 'severity', 'state', 'raised_at', 'message')
SHOW_ORDER = LIST_KEYS + ('acknowledged_at', 'acknowledged_by')
TIMES = ('raised_at', 'acknowledged_at')


class ListAlert(command.Lister):
    """List the open alerts (--all: acknowledged ones too)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        states = parser.add_mutually_exclusive_group()
        states.add_argument(
            '--all',
            dest='state',
            action='store_const',
            const='all',
            default='open',
            help='open and acknowledged alerts',
        )
        states.add_argument(
            '--acknowledged',
            dest='state',
            action='store_const',
            const='acknowledged',
            help='acknowledged alerts only',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        alerts = common.api(self.app).alert_list(parsed_args.state)
        return common.listing(alerts, LIST_KEYS, TIMES)


def _alert_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('alert', metavar='<alert>', help='id of the alert')


class ShowAlert(command.ShowOne):
    """Show one alert."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _alert_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        alert = common.api(self.app).alert_get(parsed_args.alert)
        return common.show(alert, SHOW_ORDER, TIMES)


class AckAlert(command.ShowOne):
    """Acknowledge an alert: someone is on it."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _alert_argument(parser)
        parser.add_argument(
            '--comment', metavar='<text>', help='kept with the alert'
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        alert = common.api(self.app).alert_ack(
            parsed_args.alert, parsed_args.comment
        )
        return common.show(alert, SHOW_ORDER, TIMES)
