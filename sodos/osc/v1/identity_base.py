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

"""What every ``openstack sodos identity`` command of one kind shares.

Creating, listing, showing, changing and deleting a domain, project,
user or group differ only in the kind they name: the commands of
:mod:`sodos.osc.v1.identity` are these classes with a ``kind``.
"""

from __future__ import annotations

import argparse
from typing import Any

from cliff import columns
from osc_lib import exceptions
from osc_lib import utils
from osc_lib.command import command

from sodos.osc.v1 import common

LIST_KEYS = {
    'domains': ('id', 'name', 'enabled', 'description'),
    'projects': ('id', 'name', 'domain_id', 'enabled', 'description'),
    'users': (
        'id',
        'name',
        'domain_id',
        'enabled',
        'email',
        'password_version',
    ),
    'groups': ('id', 'name', 'domain_id', 'description'),
}
TIMES = ('created_at', 'updated_at')


class NamesColumn(columns.FormattableColumn[Any]):
    """Objects (the users of a group, say): ``name (domain)`` a line."""

    def human_readable(self) -> str:
        return '\n'.join(
            '%s (%s)' % (r.get('name'), r.get('domain_id'))
            for r in self._value or []
        )

    def machine_readable(self) -> Any:
        return self._value


def show(kind: str, record: dict[str, Any]) -> Any:
    return common.show(
        record,
        LIST_KEYS[kind],
        TIMES,
        {'users': NamesColumn, 'groups': NamesColumn},
    )


def _domain_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--domain``: where the name of ``what`` is looked up."""
    parser.add_argument(
        '--domain',
        metavar='<domain>',
        help='domain (id or name) to look the %s name up in (default: '
        'default)' % what,
    )


def _attribute_options(
    parser: argparse.ArgumentParser, kind: str, changing: bool
) -> None:
    """The options of ``create`` (and, ``changing``, of ``set``)."""
    if changing:
        parser.add_argument('--name', metavar='<name>', help='new name')
    parser.add_argument(
        '--description', metavar='<description>', help='at most 255 characters'
    )
    if kind == 'users':
        parser.add_argument('--email', metavar='<email>')
    if kind != 'groups':
        state = parser.add_mutually_exclusive_group()
        state.add_argument(
            '--enable',
            dest='enabled',
            action='store_true',
            default=None,
            help='enabled at every site%s'
            % ('' if changing else ' (default)'),
        )
        state.add_argument(
            '--disable',
            dest='enabled',
            action='store_false',
            help='disabled at every site',
        )
    if kind == 'users':
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument(
            '--password-prompt',
            action='store_true',
            help='ask for the password (twice) on the terminal',
        )
        secret.add_argument(
            '--password-stdin',
            action='store_true',
            help='read the password from the first line of standard input',
        )


def settable(kind: str) -> list[str]:
    """The options of ``set`` that change something."""
    found = ['--name', '--description']
    if kind == 'users':
        found.append('--email')
    if kind != 'groups':
        found += ['--enable', '--disable']
    if kind == 'users':
        found += ['--password-prompt', '--password-stdin']
    return found


def _fields(app: Any, parsed_args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in ('name', 'description', 'email', 'enabled'):
        value = getattr(parsed_args, key, None)
        if value is not None:
            fields[key] = value
    password = read_password(app, parsed_args)
    if password is not None:
        fields['password'] = password
    return fields


def read_password(app: Any, parsed_args: argparse.Namespace) -> str | None:
    """The password ``--password-prompt`` or ``--password-stdin`` asks
    for, None without them."""
    if getattr(parsed_args, 'password_stdin', False):
        line = app.stdin.readline().rstrip('\r\n')
        if not line:
            raise exceptions.CommandError(
                '--password-stdin: the first line of standard input is '
                'empty: give the password there'
            )
        return str(line)
    if getattr(parsed_args, 'password_prompt', False):
        return str(utils.get_password(app.stdin, prompt='Password: '))
    return None


class Create(command.ShowOne):
    kind = ''

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'name',
            metavar='<name>',
            help='new name (unique %s)'
            % ('among domains' if self.kind == 'domains' else 'in its domain'),
        )
        if self.kind != 'domains':
            parser.add_argument(
                '--domain',
                metavar='<domain>',
                help='domain (id or name) to create it in (default: default)',
            )
        _attribute_options(parser, self.kind, changing=False)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        fields = _fields(self.app, parsed_args)
        if getattr(parsed_args, 'domain', None):
            fields['domain'] = parsed_args.domain
        api = common.api(self.app)
        return show(self.kind, api.identity_create(self.kind, fields))


class List(command.Lister):
    kind = ''

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--name', metavar='<name>', help='only the ones of that name'
        )
        if self.kind != 'domains':
            parser.add_argument(
                '--domain',
                metavar='<domain>',
                help='only the ones in this domain (name or id)',
            )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        filters = {'name': parsed_args.name}
        if self.kind != 'domains':
            filters['domain'] = parsed_args.domain
        found = common.api(self.app).identity_list(self.kind, **filters)
        return common.listing(found, LIST_KEYS[self.kind])


class One:
    """What show, set and delete share: one object, by id or name."""

    kind = ''

    def one_arguments(self, parser: argparse.ArgumentParser) -> None:
        single = self.kind[:-1]
        parser.add_argument(single, metavar='<%s>' % single, help='id or name')
        if self.kind != 'domains':
            _domain_option(parser, single)

    def ref(self, parsed_args: argparse.Namespace) -> tuple[str, Any]:
        return (
            getattr(parsed_args, self.kind[:-1]),
            getattr(parsed_args, 'domain', None),
        )


class Show(One, command.ShowOne):
    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        self.one_arguments(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        name, domain = self.ref(parsed_args)
        api = common.api(self.app)
        return show(self.kind, api.identity_get(self.kind, name, domain))


class Set(One, command.Command):
    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        self.one_arguments(parser)
        _attribute_options(parser, self.kind, changing=True)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        changes = _fields(self.app, parsed_args)
        if not changes:
            raise exceptions.CommandError(
                'nothing to set: give %s' % ', '.join(settable(self.kind))
            )
        name, domain = self.ref(parsed_args)
        common.api(self.app).identity_update(self.kind, name, changes, domain)


class Delete(command.Command):
    kind = ''

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'refs',
            metavar='<%s>' % self.kind[:-1],
            nargs='+',
            help='id or name (repeat for several)',
        )
        if self.kind != 'domains':
            _domain_option(parser, self.kind[:-1])
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        api = common.api(self.app)
        domain = getattr(parsed_args, 'domain', None)
        common.delete_each(
            self.app,
            parsed_args.refs,
            lambda ref: api.identity_get(self.kind, ref, domain),
            lambda gid: api.identity_delete(self.kind, gid),
            '%s(s)' % self.kind[:-1],
        )
