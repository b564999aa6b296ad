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

"""``openstack sodos identity project|user|group adopt``: a project, user
or group made by hand in one site's Keystone becomes a federation object,
present at every site.

The command returns once the request is committed; the site's Exec
carries it out at its next look at the federation. ``--wait`` polls
until it is done (and fails, naming the reason, if the site refused).
``identity adoption list|show`` show the requests.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc.v1 import common

KEYS = (
    'id',
    'kind',
    'name',
    'domain_id',
    'site',
    'state',
    'reason',
    'note',
    'object_id',
    'site_id',
)
LIST_KEYS = ('id', 'kind', 'name', 'site', 'state', 'object_id', 'reason')
TIMES = ('created_at', 'finished_at')


def _label(record: dict[str, Any]) -> str:
    return '%s %s at site %s' % (
        record.get('kind'),
        record.get('name'),
        record.get('site'),
    )


def progress(record: dict[str, Any]) -> tuple[bool, str]:
    """--wait's test: the site answered (done or failed)."""
    state = record.get('state')
    text = 'adoption of %s: %s' % (_label(record), state)
    if state == 'done':
        text += ' (federation id %s)' % record.get('object_id')
    return state != 'pending', text


def show(record: dict[str, Any]) -> Any:
    return common.show(record, KEYS, TIMES)


class _Adopt(command.ShowOne):
    kind = ''

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'name', metavar='<name>', help='its name at the site'
        )
        parser.add_argument(
            '--site',
            metavar='<site>',
            required=True,
            help='the site whose Keystone holds it',
        )
        parser.add_argument(
            '--domain',
            metavar='<domain>',
            help='its domain: default, or a federation domain (name or id)',
        )
        common.wait_arguments(parser, 'the site has adopted it')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        api = common.api(self.app)
        record = api.adoption_create(
            self.kind, parsed_args.name, parsed_args.site, parsed_args.domain
        )
        if parsed_args.wait:
            request_id = record['id']
            record = common.wait_for(
                lambda: api.adoption_get(request_id),
                progress,
                parsed_args.timeout,
                'the adoption of %s' % _label(record),
                self.app.stderr,
            )
            if record.get('state') == 'failed':
                raise exceptions.CommandError(
                    'adoption %s failed: %s'
                    % (record['id'], record.get('reason'))
                )
        return show(record)


class AdoptProject(_Adopt):
    """Make a project of a site's Keystone a federation project, present
    at every site (with its role assignments to federation users and
    groups)."""

    kind = 'project'


class AdoptUser(_Adopt):
    """Make a user of a site's Keystone a federation user, present at
    every site (its password stays at its site only)."""

    kind = 'user'


class AdoptGroup(_Adopt):
    """Make a group of a site's Keystone a federation group, present at
    every site (with its members that are federation users)."""

    kind = 'group'


class ListAdoption(command.Lister):
    """List the requests to adopt objects of a site: pending ones, and
    the latest finished ones."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument('--site', metavar='<site>', help='only this site')
        parser.add_argument(
            '--state',
            choices=('pending', 'done', 'failed'),
            help='only the requests in this state',
        )
        parser.add_argument(
            '--kind',
            choices=('project', 'user', 'group'),
            help='only the requests of this kind',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        found = common.api(self.app).adoption_list(
            site=parsed_args.site,
            state=parsed_args.state,
            kind=parsed_args.kind,
        )
        return common.listing(found, LIST_KEYS)


class ShowAdoption(command.ShowOne):
    """Show a request to adopt an object of a site: its state, and why
    it failed."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'request', metavar='<request>', help='the request id'
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        return show(common.api(self.app).adoption_get(parsed_args.request))
