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

"""sodos-manage commands on the federation's identity.

sodos-manage identity domain|project|user|group create NAME [--domain D]
    [--description T] [--email E] [--enable|--disable]
    [--password-stdin|--password-prompt]
sodos-manage identity domain|project|user|group list|show|delete ...
sodos-manage identity membership create|delete --group G --user U
sodos-manage identity role-assignment create|delete --role R
    (--user U | --group G) (--project P | --target-domain D)
sodos-manage identity membership|role-assignment list
sodos-manage identity keys status|replace (manage_identity_keys.py)

``create`` of an existing name changes the attributes given. A password
is read from stdin or a prompt, never from the command line (other users
of the host see command lines); it is encrypted with [identity]secret
before it leaves this process. Every site's Exec then brings its
Keystone in line. A write is reported done once the KB committed it.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

import prettytable
from oslo_config import cfg

from sodos import exception
from sodos.cmd import manage_identity_keys
from sodos.identity import crypto
from sodos.identity import model
from sodos.knowmon import identity_api
from sodos.knowmon import rpcapi

OBJECTS = {
    'domain': 'domains',
    'project': 'projects',
    'user': 'users',
    'group': 'groups',
}
COLUMNS = {
    'domains': ['id', 'name', 'enabled', 'description'],
    'projects': ['id', 'name', 'domain_id', 'enabled', 'description'],
    'users': ['id', 'name', 'domain_id', 'enabled', 'email', 'password'],
    'groups': ['id', 'name', 'domain_id', 'description'],
    'memberships': ['group', 'user'],
    'assignments': ['role', 'actor', 'target'],
}


def _client(conf: cfg.ConfigOpts) -> identity_api.IdentityAPI:
    from sodos import rpc

    rpc.register_opts(conf)
    box = None
    if conf.identity.secret:
        box = crypto.PasswordBox(conf.identity.secret)
    return identity_api.IdentityAPI(
        rpcapi.KnowMonAPI(conf),
        conf.site_name,
        box=box,
        protected=model.protected_sets(conf),
    )


def _password(conf: cfg.ConfigOpts) -> str | None:
    args = conf.category
    if getattr(args, 'password_stdin', False):
        return sys.stdin.readline().rstrip('\n')
    if getattr(args, 'password_prompt', False):
        first = getpass.getpass('Password: ')
        if first != getpass.getpass('Repeat password: '):
            raise exception.SodosError('the passwords differ')
        return first
    return None


def object_create(conf: cfg.ConfigOpts, kind: str) -> int:
    args = conf.category
    attrs: dict[str, Any] = {'description': args.description}
    if args.enabled is not None and kind != 'groups':
        attrs['enabled'] = args.enabled
    if kind == 'users':
        attrs['email'] = args.email
    client = _client(conf)
    try:
        result = client.put(
            kind,
            args.object_name,
            domain=getattr(args, 'domain', None),
            password=_password(conf) if kind == 'users' else None,
            **attrs,
        )
    finally:
        client.client.close()
    verb = 'created' if result.get('created') else 'updated'
    if not result.get('changed', True):
        verb = 'unchanged'
    print(
        '%s %s %s: %s'
        % (model.SINGULAR[kind], args.object_name, verb, result['id'])
    )
    return 0


def object_list(conf: cfg.ConfigOpts, kind: str) -> int:
    client = _client(conf)
    try:
        ident = client.state()
    finally:
        client.client.close()
    rows = []
    for gid, obj in sorted(ident[kind].items(), key=lambda i: i[1]['name']):
        row = dict(obj, id=gid)
        if kind == 'users':
            password = obj.get('password')
            row['password'] = 'v%d' % password['version'] if password else ''
        rows.append(row)
    _print(conf, rows, COLUMNS[kind])
    return 0


def object_show(conf: cfg.ConfigOpts, kind: str) -> int:
    args = conf.category
    client = _client(conf)
    try:
        _gid, obj = client.lookup(
            kind, args.object_name, getattr(args, 'domain', None)
        )
    finally:
        client.client.close()
    print(json.dumps(obj, indent=2, sort_keys=True))
    return 0


def object_delete(conf: cfg.ConfigOpts, kind: str) -> int:
    args = conf.category
    client = _client(conf)
    try:
        result = client.delete(
            kind, args.object_name, getattr(args, 'domain', None)
        )
    finally:
        client.client.close()
    extra = ''
    if result.get('cascaded'):
        extra = ' with %d membership(s) and assignment(s)' % result['cascaded']
    print('%s %s deleted%s' % (model.SINGULAR[kind], args.object_name, extra))
    return 0


def link_change(conf: cfg.ConfigOpts, kind: str, add: bool) -> int:
    args = conf.category
    client = _client(conf)
    try:
        if kind == 'memberships':
            result = client.membership(args.group, args.user, args.domain, add)
            what = 'user %s in group %s' % (args.user, args.group)
        else:
            actor = ('user', args.user) if args.user else ('group', args.group)
            if args.project:
                target = ('project', args.project)
            else:
                target = ('domain', args.target_domain)
            result = client.assignment(
                args.role, actor, target, args.domain, add
            )
            what = 'role %s to %s %s on %s %s' % (
                (args.role,) + actor + target
            )
    finally:
        client.client.close()
    done = result.get('created' if add else 'deleted')
    state = ('created' if add else 'deleted') if done else 'unchanged'
    print('%s: %s' % (what, state))
    return 0


def link_list(conf: cfg.ConfigOpts, kind: str) -> int:
    client = _client(conf)
    try:
        ident = client.state()
    finally:
        client.client.close()

    def name(part: str, gid: str) -> str:
        obj = ident[part].get(gid)
        return obj['name'] if obj else gid

    rows = []
    for link in ident[kind].values():
        if kind == 'memberships':
            rows.append(
                {
                    'group': name('groups', link['group_id']),
                    'user': name('users', link['user_id']),
                }
            )
            continue
        rows.append(
            {
                'role': link['role'],
                'actor': '%s %s'
                % (
                    link['actor_type'],
                    name(link['actor_type'] + 's', link['actor_id']),
                ),
                'target': '%s %s'
                % (
                    link['target_type'],
                    name(link['target_type'] + 's', link['target_id']),
                ),
            }
        )
    _print(conf, sorted(rows, key=lambda r: sorted(r.items())), COLUMNS[kind])
    return 0


def _print(conf: cfg.ConfigOpts, rows: list[dict], columns: list[str]) -> None:
    if conf.category.format == 'json':
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    table = prettytable.PrettyTable(columns)
    table.align = 'l'
    for row in rows:
        table.add_row(['' if row.get(c) is None else row[c] for c in columns])
    print(table.get_string())


def run(conf: cfg.ConfigOpts) -> int:
    """Carry out ``sodos-manage identity OBJECT ACTION``."""
    obj, action = conf.category.object, conf.category.action
    if obj == 'keys':
        return manage_identity_keys.run(conf)
    try:
        if obj in OBJECTS:
            commands: dict[str, Callable[[cfg.ConfigOpts, str], int]] = {
                'create': object_create,
                'list': object_list,
                'show': object_show,
                'delete': object_delete,
            }
            return commands[action](conf, OBJECTS[obj])
        kind = 'memberships' if obj == 'membership' else 'assignments'
        if action == 'list':
            return link_list(conf, kind)
        return link_change(conf, kind, add=action == 'create')
    except (model.InvalidIdentity, crypto.SecretError) as exc:
        raise exception.SodosError(str(exc)) from exc


def _fmt(parser: Any) -> Any:
    parser.add_argument('--format', choices=['table', 'json'], default='table')
    return parser


def _domain(parser: Any) -> None:
    parser.add_argument(
        '--domain',
        help='domain (name or id) of the names given (default: default)',
    )


def _object_parsers(objects: Any, name: str) -> None:
    kind = OBJECTS[name]
    group = objects.add_parser(name, help='%s of the federation' % kind)
    actions = group.add_subparsers(dest='action')
    actions.required = True
    create = actions.add_parser('create', help='create, or change')
    create.add_argument('object_name', metavar='NAME')
    create.add_argument('--description')
    if name != 'domain':
        _domain(create)
    if name != 'group':
        state = create.add_mutually_exclusive_group()
        state.add_argument('--enable', dest='enabled', action='store_true')
        state.add_argument('--disable', dest='enabled', action='store_false')
        create.set_defaults(enabled=None)
    if name == 'user':
        create.add_argument('--email')
        secret = create.add_mutually_exclusive_group()
        secret.add_argument(
            '--password-stdin',
            action='store_true',
            help='read the password from the first line of stdin',
        )
        secret.add_argument(
            '--password-prompt', action='store_true', help='ask for it'
        )
    _fmt(actions.add_parser('list', help='every one'))
    for action in ('show', 'delete'):
        parser = actions.add_parser(action, help='%s one' % action)
        parser.add_argument('object_name', metavar='NAME', help='name or id')
        if name != 'domain':
            _domain(parser)
        _fmt(parser)


def _link_parsers(objects: Any) -> None:
    group = objects.add_parser('membership', help='users in groups')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    for action in ('create', 'delete'):
        parser = actions.add_parser(action, help='%s a membership' % action)
        parser.add_argument('--group', required=True)
        parser.add_argument('--user', required=True)
        _domain(parser)
    _fmt(actions.add_parser('list', help='every membership'))

    group = objects.add_parser('role-assignment', help='roles, by name')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    for action in ('create', 'delete'):
        parser = actions.add_parser(action, help='%s an assignment' % action)
        parser.add_argument('--role', required=True, help='role name')
        actor = parser.add_mutually_exclusive_group(required=True)
        actor.add_argument('--user')
        actor.add_argument('--group')
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument('--project')
        target.add_argument(
            '--target-domain', help='a domain as the target (name or id)'
        )
        _domain(parser)
    _fmt(actions.add_parser('list', help='every role assignment'))


def add_parsers(subparsers: Any) -> None:
    group = subparsers.add_parser(
        'identity', help="the federation's projects, users, groups, roles"
    )
    objects = group.add_subparsers(dest='object')
    objects.required = True
    for name in OBJECTS:
        _object_parsers(objects, name)
    _link_parsers(objects)
    manage_identity_keys.add_parsers(objects)
