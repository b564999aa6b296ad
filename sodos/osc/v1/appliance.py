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

"""``openstack sodos appliance ...``: create, list, show, delete
(set and unset: :mod:`sodos.osc.v1.appliance_set`).

The spec file is read and parsed here, so that an unreadable file or a
YAML error is reported with the file's name and nothing is sent; the
spec itself is checked by the API, whose message names the wrong field.
Appliances are named by id or, when unambiguous, by name; a caller
sees its project's appliances only, an admin every project's with
``--all-projects``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from typing import Any

import yaml  # cliff's own dependency, for its yaml formatter
from cliff import columns
from osc_lib import exceptions
from osc_lib.command import command

from sodos import exception
from sodos import jsonsafe
from sodos.osc import client
from sodos.osc.v1 import common

LIST_KEYS = (
    'id',
    'name',
    'priority',
    'members_total',
    'members_placed',
    'members_active',
)
# Keystone's project ids: uuid4 hex (32 digits), with or without dashes.
_KEYSTONE_ID = re.compile(r'^[0-9a-fA-F]{32}\Z|^[0-9a-fA-F-]{36}\Z')
SHOW_ORDER = (
    'id',
    'name',
    'project_id',
    'priority',
    'created_at',
    'members',
    'spec',
)


class MembersColumn(columns.FormattableColumn[Any]):
    """Members of an appliance, one ``member@site STATE server-id
    addresses`` line each (the last two once the site reports them),
    the sites that refused a member, with their reason, and why an
    unplaced member has no site."""

    def human_readable(self) -> str:
        return '\n'.join(
            ' '.join(
                part
                for part in (
                    '%s@%s' % (m.get('member'), m.get('site') or '-'),
                    str(m.get('state')),
                    m.get('server_id') or '',
                    ','.join(m.get('addresses') or []),
                )
                if part
            )
            + ''.join(
                ' (refused by %s: %s)' % (r.get('site'), r.get('reason'))
                for r in m.get('refused') or []
            )
            + (' (%s)' % m['reason'] if m.get('reason') else '')
            for m in self._value or []
        )

    def machine_readable(self) -> Any:
        return self._value


class SpecColumn(columns.FormattableColumn[Any]):
    def human_readable(self) -> str:
        return json.dumps(self._value, indent=2, sort_keys=True)

    def machine_readable(self) -> Any:
        return self._value


def show(appliance: dict[str, Any]) -> Any:
    return common.show(
        appliance,
        SHOW_ORDER,
        ('created_at', 'updated_at'),
        {'members': MembersColumn, 'spec': SpecColumn},
    )


def _parse(path: str, text: str) -> Any:
    try:
        spec = _decode(path, text)
        # What the API would refuse (NaN, a lone surrogate, deep
        # nesting), said before sending.
        jsonsafe.check(spec, 'spec')
    except RecursionError:
        # The JSON and YAML readers recurse: a local file, read once.
        raise exceptions.CommandError(
            'the spec file %s nests deeper than %d levels'
            % (path, jsonsafe.MAX_DEPTH)
        ) from None
    except exception.InvalidJson as exc:
        raise exceptions.CommandError(
            'the spec file %s: %s' % (path, exc)
        ) from None
    return spec


def _decode(path: str, text: str) -> Any:
    # JSON first: JSON indented with tabs is not YAML.
    try:
        return json.loads(text)
    except ValueError as exc:
        if path.lower().endswith('.json'):
            raise exceptions.CommandError(
                'the spec file %s is not valid JSON: %s' % (path, exc)
            ) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise exceptions.CommandError(
            'the spec file %s is neither YAML nor JSON: %s' % (path, exc)
        ) from exc


def read_spec(path: str) -> dict[str, Any]:
    """The spec in ``path`` (YAML or JSON), or CommandError naming it.

    A file holding ``{"appliance": SPEC}`` (the API's own body) works
    too."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise exceptions.CommandError(
            'cannot read the spec file %s: %s' % (path, exc)
        ) from exc
    spec = _parse(path, text)
    if isinstance(spec, dict) and list(spec) == ['appliance']:
        spec = spec['appliance']
    if not isinstance(spec, dict):
        raise exceptions.CommandError(
            'the spec file %s must hold one appliance spec (a mapping with '
            'name and members), not %s' % (path, type(spec).__name__)
        )
    return spec


def resolve(api: Any, ref: str) -> dict[str, Any]:
    """The appliance whose id, or else whose name, is ``ref``."""
    try:
        return api.appliance_get(ref)
    except client.ApiError as exc:
        if exc.code != 'not_found':
            raise
        not_found = exc
    found = common.named(api.appliance_list(), ref, 'appliances')
    if found is None:
        raise not_found
    return api.appliance_get(found['id'])


def _active(appliance: dict[str, Any]) -> tuple[bool, str]:
    members = appliance.get('members') or []
    states = Counter(m.get('state') or 'unplaced' for m in members)
    active = states.pop('ACTIVE', 0)
    text = 'appliance %s: %d/%d members ACTIVE' % (
        appliance.get('name'),
        active,
        len(members),
    )
    if states:
        text += ' (%s)' % ', '.join(
            '%d %s' % (n, s) for s, n in sorted(states.items())
        )
    return bool(members) and active == len(members), text


class CreateAppliance(command.ShowOne):
    """Create an appliance from a spec file; the federation places it."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--file',
            required=True,
            metavar='<spec-file>',
            help='the appliance spec, YAML or JSON',
        )
        parser.add_argument(
            '--project',
            metavar='<project>',
            help="the owner's project (name or id), when not the token's "
            '(admin only)',
        )
        common.wait_arguments(parser, 'every member is ACTIVE')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        spec = read_spec(parsed_args.file)
        if parsed_args.project:
            spec['project_id'] = _project_id(self.app, parsed_args.project)
        api = common.api(self.app)
        appliance = api.appliance_create(spec)
        if parsed_args.wait:
            appliance = common.wait_for(
                lambda: api.appliance_get(appliance['id']),
                _active,
                parsed_args.timeout,
                'every member of appliance %s to be ACTIVE'
                % appliance.get('name'),
                self.app.stderr,
            )
        return show(appliance)


def _project_id(app: Any, ref: str) -> str:
    """The id of project ``ref`` (a name is looked up in Keystone when
    the identity client is at hand; the API checks the id)."""
    if _KEYSTONE_ID.match(ref):
        return ref
    try:
        found = app.client_manager.identity.projects.find(name=ref)
    except Exception as exc:
        raise exceptions.CommandError(
            '--project %s: no such project (%s); give its id' % (ref, exc)
        ) from exc
    return str(found.id)


class ListAppliance(command.Lister):
    """List your project's appliances and how many of their members run."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--all-projects',
            action='store_true',
            help="every project's appliances (admin only)",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        every = parsed_args.all_projects
        appliances = common.api(self.app).appliance_list(every)
        keys = LIST_KEYS + ('project_id',) if every else LIST_KEYS
        return common.listing(appliances, keys)


class ShowAppliance(command.ShowOne):
    """Show an appliance: its spec and where each member runs."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'appliance', metavar='<appliance>', help='id or name'
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        api = common.api(self.app)
        return show(resolve(api, parsed_args.appliance))


def _left(name: str, appliance: dict[str, Any]) -> str:
    placed = [m for m in appliance.get('members') or [] if m.get('site')]
    return 'appliance %s: deleting, %d member(s) left' % (name, len(placed))


class DeleteAppliance(command.Command):
    """Delete appliances; their servers are deleted at every site."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'appliances',
            metavar='<appliance>',
            nargs='+',
            help='id or name (repeat for several)',
        )
        common.wait_arguments(parser, 'the appliances are gone')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        api = common.api(self.app)

        def wait(appliance: dict[str, Any]) -> None:
            name = appliance.get('name', '')
            common.wait_gone(
                lambda: api.appliance_get(appliance['id']),
                lambda left: _left(name, left),
                'appliance %s: deleted' % name,
                parsed_args.timeout,
                'appliance %s to be deleted' % appliance.get('name'),
                self.app.stderr,
            )

        common.delete_each(
            self.app,
            parsed_args.appliances,
            lambda ref: resolve(api, ref),
            api.appliance_delete,
            'appliance(s)',
            wait if parsed_args.wait else None,
        )
