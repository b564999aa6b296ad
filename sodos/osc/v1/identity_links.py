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

"""``openstack sodos identity group add|remove user`` and
``openstack sodos identity role-assignment create|list|delete``.

As OpenStackClient's own ``group add user`` and ``role add``: names are
looked up in ``--group-domain``, ``--user-domain`` and
``--project-domain`` (``default`` when not given); ``--domain`` of a
role assignment is its target. Roles are named: each site's Keystone
must have them.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc.v1 import common

ASSIGNMENT_KEYS = (
    'role',
    'actor_type',
    'actor_name',
    'actor_id',
    'target_type',
    'target_name',
    'target_id',
)


class _Membership(command.Command):
    method = ''

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument('group', metavar='<group>', help='id or name')
        parser.add_argument(
            'users',
            metavar='<user>',
            nargs='+',
            help='id or name (repeat for several)',
        )
        parser.add_argument(
            '--group-domain',
            metavar='<domain>',
            help='domain of the group, named by name (default: default)',
        )
        parser.add_argument(
            '--user-domain',
            metavar='<domain>',
            help="domain of the users named by name (default: the group's "
            'domain)',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        api = common.api(self.app)
        failed = []
        for user in parsed_args.users:
            try:
                api.group_membership(
                    self.method,
                    parsed_args.group,
                    user,
                    parsed_args.group_domain,
                    parsed_args.user_domain,
                )
            except exceptions.CommandError as exc:
                self.app.stderr.write('%s: %s\n' % (user, exc))
                failed.append(user)
        if failed:
            raise exceptions.CommandError(
                '%d of %d user(s) not changed: %s'
                % (len(failed), len(parsed_args.users), ', '.join(failed))
            )


class AddUserToGroup(_Membership):
    """Put users in a federation group, at every site."""

    method = 'PUT'


class RemoveUserFromGroup(_Membership):
    """Take users out of a federation group, at every site."""

    method = 'DELETE'


def _assignment_arguments(
    parser: argparse.ArgumentParser, required: bool
) -> None:
    parser.add_argument(
        '--role', metavar='<role>', required=required, help='role name'
    )
    actor = parser.add_mutually_exclusive_group(required=required)
    actor.add_argument('--user', metavar='<user>', help='id or name')
    actor.add_argument('--group', metavar='<group>', help='id or name')
    target = parser.add_mutually_exclusive_group(required=required)
    target.add_argument('--project', metavar='<project>', help='id or name')
    target.add_argument(
        '--domain',
        metavar='<domain>',
        help='a domain as the target (id or name)',
    )
    for owner in ('user', 'group', 'project'):
        parser.add_argument(
            '--%s-domain' % owner,
            metavar='<domain>',
            help='domain of the %s, named by name (default: default)' % owner,
        )


def _assignment_fields(parsed_args: argparse.Namespace) -> dict[str, str]:
    fields = {}
    for key in (
        'role',
        'user',
        'group',
        'project',
        'domain',
        'user_domain',
        'group_domain',
        'project_domain',
    ):
        value = getattr(parsed_args, key)
        if value is not None:
            fields[key] = value
    return fields


class CreateRoleAssignment(command.ShowOne):
    """Give a role to a user or group on a project or domain, at every
    site (nothing changes if it has it already)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _assignment_arguments(parser, required=True)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        fields = _assignment_fields(parsed_args)
        found = common.api(self.app).role_assignment_create(fields)
        return common.show(found, ASSIGNMENT_KEYS, ('created_at',))


class ListRoleAssignment(command.Lister):
    """List the federation's role assignments (every option filters)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _assignment_arguments(parser, required=False)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        filters = _assignment_fields(parsed_args)
        found = common.api(self.app).role_assignment_list(**filters)
        return common.listing(found, ASSIGNMENT_KEYS)


class DeleteRoleAssignment(command.Command):
    """Take a role back from a user or group on a project or domain, at
    every site."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _assignment_arguments(parser, required=True)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        fields = _assignment_fields(parsed_args)
        common.api(self.app).role_assignment_delete(fields)
