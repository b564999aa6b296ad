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

"""``openstack sodos appliance set`` and ``unset``: change an appliance
while it runs.

Each option becomes a field of the merge patch the API applies
(PATCH /v1/appliances/{id}); the API checks the result as a new spec
and says, naming the field, what cannot change live. ``--member-count``
needs the members as they are: they are read first and sent whole.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc.v1 import appliance as appliance_cmd
from sodos.osc.v1 import common


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise argparse.ArgumentTypeError('%r is not KEY=VALUE' % text)
    return key, value


def _count(text: str) -> tuple[str, int]:
    name, value = _pair(text)
    if not value.isdigit():
        raise argparse.ArgumentTypeError(
            '%r: the count must be a whole number' % text
        )
    return name, int(value)


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise exceptions.CommandError(
            'cannot read the %s file %s: %s' % (what, path, exc)
        ) from exc


def _appliance_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('appliance', metavar='<appliance>', help='id or name')


class SetAppliance(command.ShowOne):
    """Change an appliance: its members' counts, priority, constraints,
    key, user data or metadata (the project, the networks and a
    member's image and flavor stay)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _appliance_argument(parser)
        parser.add_argument('--name', metavar='<name>', help='a new name')
        parser.add_argument(
            '--priority',
            type=int,
            metavar='<0-100>',
            help='higher is placed and kept first',
        )
        parser.add_argument(
            '--member-count',
            dest='counts',
            action='append',
            type=_count,
            default=[],
            metavar='<member>=<count>',
            help='servers of a member (repeat for several members)',
        )
        parser.add_argument(
            '--spread',
            type=int,
            metavar='<sites>',
            help='at least this many sites (may only be lowered)',
        )
        parser.add_argument(
            '--site',
            dest='sites',
            action='append',
            metavar='<site>',
            help='a site the members may run on (repeat for several); '
            'replaces the list',
        )
        parser.add_argument(
            '--public-key',
            metavar='<file>',
            help='the OpenSSH public key (a .pub file) servers boot with',
        )
        parser.add_argument(
            '--user-data',
            metavar='<file>',
            help='the user data (cloud-init) servers boot with',
        )
        parser.add_argument(
            '--property',
            dest='properties',
            action='append',
            type=_pair,
            default=[],
            metavar='<key>=<value>',
            help='server metadata to add or change (repeat for several)',
        )
        parser.add_argument(
            '--file',
            metavar='<spec-file>',
            help='fields of the spec to change, YAML or JSON (lists such '
            'as members replace the whole list)',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        api = common.api(self.app)
        found = appliance_cmd.resolve(api, parsed_args.appliance)
        changes = _changes(parsed_args, found.get('spec') or {})
        if not changes:
            raise exceptions.CommandError(
                'nothing to set: give one or more of --name, --priority, '
                '--member-count, --spread, --site, --public-key, '
                '--user-data, --property, --file'
            )
        return appliance_cmd.show(api.appliance_update(found['id'], changes))


def _changes(args: argparse.Namespace, spec: dict[str, Any]) -> dict:
    changes: dict[str, Any] = {}
    if args.file:
        changes.update(appliance_cmd.read_spec(args.file))
    for key in ('name', 'priority'):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    if args.counts:
        changes['members'] = _counted(spec, dict(args.counts))
    constraints = dict(changes.get('constraints') or {})
    if args.spread is not None:
        constraints['spread'] = args.spread
    if args.sites:
        constraints['sites'] = args.sites
    if constraints:
        changes['constraints'] = constraints
    if args.public_key:
        changes['public_key'] = _read(args.public_key, 'public key')
    if args.user_data:
        changes['user_data'] = _read(args.user_data, 'user data')
    if args.properties:
        metadata = dict(changes.get('metadata') or {})
        metadata.update(args.properties)
        changes['metadata'] = metadata
    return changes


def _counted(spec: dict[str, Any], counts: dict[str, int]) -> list[dict]:
    members = copy.deepcopy(spec.get('members') or [])
    names = [m.get('name') for m in members]
    unknown = sorted(set(counts) - set(names))
    if unknown:
        raise exceptions.CommandError(
            '--member-count: no member named %s in appliance %s (its '
            'members: %s)'
            % (', '.join(unknown), spec.get('name'), ', '.join(names))
        )
    for member in members:
        if member.get('name') in counts:
            member['count'] = counts[member['name']]
    return members


# ``unset`` option -> the patch that takes it back.
UNSETS: dict[str, dict[str, Any]] = {
    'public_key': {'public_key': None},
    'user_data': {'user_data': None},
    'sites': {'constraints': {'sites': None}},
    'spread': {'constraints': {'spread': None}},
}


class UnsetAppliance(command.ShowOne):
    """Take an appliance's key, user data, metadata keys, allowed sites
    or spread back (servers built from then on boot without them)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _appliance_argument(parser)
        parser.add_argument(
            '--property',
            dest='properties',
            action='append',
            default=[],
            metavar='<key>',
            help='server metadata to remove (repeat for several)',
        )
        for key in UNSETS:
            parser.add_argument(
                '--' + key.replace('_', '-'),
                dest=key,
                action='store_true',
                help='take %s back' % key.replace('_', ' '),
            )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        changes: dict[str, Any] = {}
        for key, patch in UNSETS.items():
            if getattr(parsed_args, key):
                for field, value in patch.items():
                    if isinstance(value, dict):
                        changes.setdefault(field, {}).update(value)
                    else:
                        changes[field] = value
        if parsed_args.properties:
            changes['metadata'] = dict.fromkeys(parsed_args.properties)
        if not changes:
            raise exceptions.CommandError(
                'nothing to unset: give one or more of --property, %s'
                % ', '.join('--' + k.replace('_', '-') for k in UNSETS)
            )
        api = common.api(self.app)
        found = appliance_cmd.resolve(api, parsed_args.appliance)
        return appliance_cmd.show(api.appliance_update(found['id'], changes))
