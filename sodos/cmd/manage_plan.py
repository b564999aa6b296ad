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

"""sodos-manage commands for when the REST API cannot be used.

sodos-manage site drain|undrain NAME
sodos-manage policy set consolidate|paused true|false
sodos-manage plan whatif [--fail-site X]... [--drain-site Y]... [--format]

They reach the site's KnowMon over its message bus ([DEFAULT]
transport_url), so they run on any host of the site with neither the
API nor Keystone: they are what an operator needs in an incident that
took those down (ask what-if, drain a failing site, pause the planner).
Otherwise ``openstack sodos site drain|undrain`` and ``openstack sodos
whatif`` are the usual way (with --reason and --wait); the policies have
no API yet. A write is reported done only once the KB has committed it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import whatif
from sodos.knowmon import rpcapi


def _api(conf: cfg.ConfigOpts) -> rpcapi.KnowMonAPI:
    from sodos import rpc

    rpc.register_opts(conf)
    return rpcapi.KnowMonAPI(conf)


def _write(conf: cfg.ConfigOpts, type_: str, args: dict[str, Any]) -> None:
    api = _api(conf)
    try:
        rpcapi.propose(api, type_, args, conf.site_name)
    finally:
        api.close()


def site_drain(conf: cfg.ConfigOpts) -> int:
    _write(
        conf,
        'site.maintenance',
        {'site': conf.category.site, 'state': 'draining'},
    )
    print(
        'site %s draining: its members move away, then it is marked '
        'drained' % conf.category.site
    )
    return 0


def site_undrain(conf: cfg.ConfigOpts) -> int:
    _write(conf, 'site.maintenance', {'site': conf.category.site, 'state': ''})
    print('site %s back in service' % conf.category.site)
    return 0


# Policies that take a number; the others take true or false.
NUMBER_POLICIES = ('fairshare_half_life_s',)


def _policy_value(key: str, text: str) -> bool | float:
    if key in NUMBER_POLICIES:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise exception.SodosError(
                'policy %s takes a number, not %r' % (key, text)
            )
        return number
    value = text.lower()
    if value not in ('true', 'false'):
        raise exception.SodosError(
            'policy %s takes true or false, not %r' % (key, text)
        )
    return value == 'true'


def policy_set(conf: cfg.ConfigOpts) -> int:
    key = conf.category.key
    value = _policy_value(key, conf.category.value)
    _write(conf, 'policy.set', {'key': key, 'value': value})
    print('policy %s = %s' % (key, str(value).lower()))
    return 0


def plan_whatif(conf: cfg.ConfigOpts) -> int:
    failed = list(conf.category.fail_site or [])
    drained = list(conf.category.drain_site or [])
    if not failed and not drained:
        raise exception.SodosError(
            'name at least one --fail-site or --drain-site'
        )
    api = _api(conf)
    try:
        kb = api.read()
    finally:
        api.close()
    planner = planner_mod.from_conf(conf)
    try:
        report = whatif.ask(planner, kb, failed, drained, time.time())
    except ValueError as exc:
        raise exception.SodosError(str(exc)) from exc
    if conf.category.format == 'json':
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(whatif.as_text(report))
    return 0


COMMANDS: dict[tuple[str, str], Callable[[cfg.ConfigOpts], int]] = {
    ('site', 'drain'): site_drain,
    ('site', 'undrain'): site_undrain,
    ('policy', 'set'): policy_set,
    ('plan', 'whatif'): plan_whatif,
}


def add_parsers(subparsers: Any) -> None:
    def fmt(parser: Any) -> None:
        parser.add_argument(
            '--format', choices=['table', 'json'], default='table'
        )

    group = subparsers.add_parser('site', help='site maintenance')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    for name, text in (
        ('drain', 'move every member away, then mark the site drained'),
        ('undrain', 'put a drained site back in service'),
    ):
        actions.add_parser(name, help=text).add_argument('site')

    group = subparsers.add_parser('policy', help='federation policies')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    setter = actions.add_parser('set', help='set a policy')
    setter.add_argument(
        'key', choices=['consolidate', 'fairshare_half_life_s', 'paused']
    )
    setter.add_argument(
        'value', help='true or false; seconds for fairshare_half_life_s'
    )

    group = subparsers.add_parser('plan', help='ask the planner')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    ask = actions.add_parser('whatif', help='what if sites fail or drain')
    ask.add_argument('--fail-site', action='append', metavar='SITE')
    ask.add_argument('--drain-site', action='append', metavar='SITE')
    fmt(ask)
