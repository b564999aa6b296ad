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

"""The ``tools/minicloud`` command line.

    minicloud start SITE --port-base N [--root DIR] [--neutron real|stub]
    minicloud stop SITE [--grace SECONDS]
    minicloud destroy SITE
    minicloud status SITE
    minicloud smoke SITE

Errors are one line on stderr (exit 1), never a traceback unless
--debug is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback

from tests.minicloud import backends
from tests.minicloud import configs
from tests.minicloud import errors
from tests.minicloud import neutron
from tests.minicloud import processes
from tests.minicloud import site as site_mod
from tests.minicloud import smoke

_URLS = {
    'keystone': 'auth_url',
    'glance': 'glance_url',
    'placement': 'placement_url',
    'nova-api': 'nova_url',
    'neutron': 'neutron_url',
    'neutron-stub': 'neutron_url',
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='minicloud',
        description='Run minimal real OpenStack sites (keystone, glance, '
        'placement, nova with a fake virt driver) on 127.0.0.1.',
    )
    parser.add_argument(
        '--debug', action='store_true', help='show tracebacks on errors'
    )
    commands = parser.add_subparsers(dest='command', required=True)
    root_default = os.environ.get(
        'MINICLOUD_ROOT', os.path.join(tempfile.gettempdir(), 'minicloud')
    )
    for name, text in (
        ('start', 'build and start a site afresh (wipes an old one)'),
        ('stop', 'stop the processes of a site'),
        ('destroy', 'stop a site, drop its databases, vhost and files'),
        ('status', 'show which processes of a site run'),
        ('smoke', 'check a running site end to end'),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument('site', help='site name (also its region)')
        sub.add_argument(
            '--root',
            default=root_default,
            help='directory of the sites (default: $MINICLOUD_ROOT or '
            '%(default)s)',
        )
        if name == 'start':
            sub.add_argument(
                '--port-base',
                type=int,
                required=True,
                help='first of 5 ports: keystone, glance, placement, nova, '
                'neutron',
            )
            sub.add_argument(
                '--neutron',
                choices=neutron.MODES,
                default=os.environ.get(
                    'MINICLOUD_NEUTRON', neutron.DEFAULT_MODE
                ),
                help='real: a neutron-server (API only, no agents) in the '
                'catalog; stub: an empty read-only stand-in for nova '
                '(default: %(default)s)',
            )
            sub.add_argument(
                '--compute-driver',
                default=os.environ.get(
                    'MINICLOUD_COMPUTE_DRIVER', configs.DEFAULT_COMPUTE_DRIVER
                ),
                help='nova compute_driver (default: %(default)s)',
            )
            sub.add_argument(
                '--transport-url',
                default=os.environ.get(
                    'SODOS_TEST_TRANSPORT_URL', backends.DEFAULT_TRANSPORT_URL
                ),
                help='RabbitMQ; the site uses a vhost named after it',
            )
            sub.add_argument(
                '--database-url',
                default=os.environ.get(
                    'SODOS_TEST_MARIADB_URL', backends.DEFAULT_DATABASE_URL
                ),
                help='MariaDB server URL (no database)',
            )
        if name == 'stop':
            sub.add_argument(
                '--grace',
                type=float,
                default=processes.DEFAULT_STOP_GRACE,
                help='seconds to wait before SIGKILL; 0 kills at once '
                '(default: %(default)s)',
            )
    return parser


def _status(site: site_mod.Site) -> int:
    state = site.state()
    print(
        'site %s: %s%s, %s'
        % (
            site.name,
            state.get('state', 'unknown'),
            ' in %.1f s' % state['ready_seconds']
            if 'ready_seconds' in state
            else '',
            site.dir,
        )
    )
    pids = site.status()
    for name, pid in pids.items():
        url = getattr(site, _URLS[name]) if name in _URLS else ''
        print(
            '  %-15s %-8s %-8s %s'
            % (name, 'running' if pid else 'stopped', pid or '', url)
        )
    return 0 if all(pids.values()) else 1


def _run(args: argparse.Namespace) -> int:
    if args.command == 'start':
        site = site_mod.Site(
            args.site,
            args.port_base,
            args.root,
            transport_url=args.transport_url,
            database_url=args.database_url,
            compute_driver=args.compute_driver,
            neutron=args.neutron,
        )
        site.start()
        print(site.credentials())
        return 0
    site = site_mod.Site.load(args.site, args.root)
    if args.command == 'stop':
        count = site.stop(args.grace)
        print('site %s: stopped %d processes' % (site.name, count))
    elif args.command == 'destroy':
        site.destroy()
        print('site %s: destroyed' % site.name)
    elif args.command == 'status':
        return _status(site)
    elif args.command == 'smoke':
        smoke.run(site)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print('minicloud: interrupted', file=sys.stderr)
        return 130
    except errors.MinicloudError as e:
        if args.debug:
            traceback.print_exc()
        print('minicloud: error: %s' % e, file=sys.stderr)
        return 1
    except Exception as e:
        if args.debug:
            traceback.print_exc()
        print(
            'minicloud: error: %s: %s (--debug shows the traceback)'
            % (type(e).__name__, e),
            file=sys.stderr,
        )
        return 1
