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

"""sodos-manage: what an operator does on a site's hosts.

sodos-manage federation status [--format table|json]
sodos-manage federation join --peer HOST:PORT
sodos-manage federation bootstrap
sodos-manage federation leave [--timeout S]
sodos-manage db sync [--revision R]
sodos-manage db version

the site, policy and plan commands of manage_plan.py, and the identity
keys commands of manage_identity_keys.py. Only what cannot go through
the REST API, or is needed when the API cannot be used, is here: the
rest is ``openstack sodos`` (manage_moved.py says where each removed
command went).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos import exception
from sodos.cmd import manage_identity_keys
from sodos.cmd import manage_moved
from sodos.cmd import manage_plan
from sodos.db import migration
from sodos.kb.raft import admin


def federation_status(conf: cfg.ConfigOpts) -> int:
    me = admin.member(conf)
    data = admin.federation_status(me.address, me.key)
    if conf.category.format == 'json':
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(admin.status_text(data))
    return 0


def federation_join(conf: cfg.ConfigOpts) -> int:
    reply = admin.join(admin.member(conf), conf.category.peer, conf.site_name)
    print(
        'Site %s will join federation %s as a read-only member (voters: %s).'
        '\nStart its sodos services now.'
        % (conf.site_name, reply['federation_id'], ', '.join(reply['voters']))
    )
    return 0


def federation_bootstrap(conf: cfg.ConfigOpts) -> int:
    me = admin.member(conf)
    admin.bootstrap(me)
    print(
        'Site %s will start a new federation as its first voter.\n'
        'Start its sodos services now; other sites join with '
        '[raft]join = %s' % (conf.site_name, me.address)
    )
    return 0


def federation_leave(conf: cfg.ConfigOpts) -> int:
    me = admin.member(conf)
    admin.ask_to_leave(me, conf.site_name)
    deadline = time.monotonic() + conf.category.timeout
    print('Leaving: waiting until no voter counts on this site...')
    while time.monotonic() < deadline:
        if admin.has_left(me):
            print(
                'Site %s has left the federation. Stop its sodos '
                'services.' % conf.site_name
            )
            return 0
        time.sleep(0.5)
    print(
        'Site %s is still a member after %.0f s: check '
        '"sodos-manage federation status" and the leader\'s log.'
        % (conf.site_name, conf.category.timeout),
        file=sys.stderr,
    )
    return 1


COMMANDS: dict[str, Callable[[cfg.ConfigOpts], int]] = {
    'status': federation_status,
    'join': federation_join,
    'bootstrap': federation_bootstrap,
    'leave': federation_leave,
}


def db_sync(conf: cfg.ConfigOpts) -> int:
    revision = migration.upgrade(conf, conf.category.revision)
    print('The history database is at revision %s.' % revision)
    return 0


def db_version(conf: cfg.ConfigOpts) -> int:
    print(migration.version(conf) or 'None (run "sodos-manage db sync")')
    return 0


DB_COMMANDS: dict[str, Callable[[cfg.ConfigOpts], int]] = {
    'sync': db_sync,
    'version': db_version,
}


def _add_db_parsers(subparsers: Any) -> None:
    db = subparsers.add_parser('db', help='the local history database')
    actions = db.add_subparsers(dest='action')
    actions.required = True
    sync = actions.add_parser(
        'sync', help='create or upgrade the schema ([database]connection)'
    )
    sync.add_argument(
        '--revision', default='head', help='target revision (default: head)'
    )
    actions.add_parser('version', help='the revision of the schema')


def _add_parsers(subparsers: Any) -> None:
    federation = subparsers.add_parser(
        'federation', help='membership of this site in the federation'
    )
    actions = federation.add_subparsers(dest='action')
    actions.required = True
    status = actions.add_parser('status', help='leader, voters, members')
    status.add_argument('--format', choices=['table', 'json'], default='table')
    join = actions.add_parser(
        'join', help='prepare this site to join through a member'
    )
    join.add_argument(
        '--peer',
        required=True,
        metavar='HOST:PORT',
        help='[raft]address of any member',
    )
    actions.add_parser('bootstrap', help='prepare a new federation')
    leave = actions.add_parser('leave', help='leave the federation')
    leave.add_argument('--timeout', type=float, default=60.0)
    _add_db_parsers(subparsers)
    manage_plan.add_parsers(subparsers)
    identity = subparsers.add_parser(
        'identity', help="the federation's shared fernet keys"
    )
    objects = identity.add_subparsers(dest='object')
    objects.required = True
    manage_identity_keys.add_parsers(objects)


# The first word of every command, for manage_moved to find the command
# among the options (a test checks it against the parsers).
CATEGORIES = ('federation', 'db', 'site', 'policy', 'plan', 'identity')


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Before the configuration is read: the pointer to the command that
    # replaces a removed one needs no config file, not even a readable one.
    moved = manage_moved.message(args, CATEGORIES)
    if moved is not None:
        print('sodos-manage: error: %s' % moved, file=sys.stderr)
        return 2
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    # A command fails at once on an unreachable database, unless the
    # config file asks for oslo.db's retries.
    conf.set_default('max_retries', 0, group='database')
    conf.register_cli_opt(
        cfg.SubCommandOpt('category', title='commands', handler=_add_parsers)
    )
    try:
        conf(args, project='sodos')
        category = conf.category.name
        if category == 'identity':
            return manage_identity_keys.run(conf)
        if category == 'db':
            return DB_COMMANDS[conf.category.action](conf)
        if category != 'federation':
            run = manage_plan.COMMANDS[(category, conf.category.action)]
            return run(conf)
        return COMMANDS[conf.category.action](conf)
    except (cfg.Error, exception.SodosError, ValueError) as exc:
        print('sodos-manage: error: %s' % exc, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
