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

"""sodos-manage commands on appliances, sites and plans.

sodos-manage appliance create --file SPEC [--wait S]
sodos-manage appliance list|show ID|delete ID [--format table|json]
sodos-manage site drain|undrain NAME
sodos-manage policy set consolidate|paused true|false
sodos-manage plan whatif [--fail-site X]... [--drain-site Y]... [--format]

They reach the site's KnowMon over its message bus ([DEFAULT]
transport_url), so they run on any host of the site. A write is reported
done only once the KB has committed it.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import prettytable
import yaml
from oslo_config import cfg

from sodos import exception
from sodos import jsonsafe
from sodos import readmodel
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import whatif
from sodos.domain import appliance
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


def _read_spec(path: str) -> Any:
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as exc:
        raise exception.SodosError('cannot read %s: %s' % (path, exc)) from exc
    try:
        return jsonsafe.load_yaml(text, 'spec')  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise exception.SodosError(
            '%s is neither JSON nor YAML: %s' % (path, exc)
        ) from exc
    except exception.InvalidJson as exc:
        raise exception.SodosError('%s: %s' % (path, exc)) from None


def appliance_create(conf: cfg.ConfigOpts) -> int:
    spec = appliance.validate(_read_spec(conf.category.file))
    api = _api(conf)
    try:
        problems = appliance.feasibility(spec, api.read('sites'))
        if problems:
            raise appliance.InvalidAppliance(
                'appliance %s cannot be placed in this federation: %s'
                % (spec['name'], '; '.join(problems))
            )
        appliance_id = uuid.uuid4().hex
        rpcapi.propose(
            api,
            'appliance.put',
            {'appliance_id': appliance_id, 'spec': spec},
            conf.site_name,
        )
        print('appliance %s created: %s' % (spec['name'], appliance_id))
        if conf.category.wait:
            return _wait_active(api, appliance_id, spec, conf.category.wait)
        return 0
    finally:
        api.close()


def _wait_active(
    api: Any, appliance_id: str, spec: dict[str, Any], timeout: float
) -> int:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        row = readmodel.appliance_row(
            appliance_id,
            {'spec': spec},
            api.read('placements'),
            api.read('monitoring'),
        )
        active, count = row['members_active'], row['members_total']
        line = '%d/%d members ACTIVE' % (active, count)
        if line != last:
            print(line, flush=True)
            last = line
        if active == count:
            return 0
        time.sleep(1.0)
    print(
        'not every member is ACTIVE after %.0f s: see "sodos-manage '
        'appliance show %s" and the alerts' % (timeout, appliance_id),
        file=sys.stderr,
    )
    return 1


def appliance_list(conf: cfg.ConfigOpts) -> int:
    api = _api(conf)
    try:
        rows = readmodel.appliance_rows(
            api.read('appliances'),
            api.read('placements'),
            api.read('monitoring'),
        )
    finally:
        api.close()
    _print(
        conf,
        rows,
        ['id', 'name', 'priority', 'members_placed', 'members_active'],
    )
    return 0


def appliance_show(conf: cfg.ConfigOpts) -> int:
    api = _api(conf)
    try:
        appliance_id = conf.category.id
        record = api.read('appliances').get(appliance_id)
        if record is None:
            raise exception.SodosError('no appliance %s' % appliance_id)
        members = readmodel.member_states(
            appliance_id,
            record.get('spec'),
            api.read('placements'),
            api.read('monitoring'),
        )
    finally:
        api.close()
    if conf.category.format == 'json':
        states = {m.pop('member'): m for m in members}
        print(json.dumps(dict(record, members=states), indent=2))
        return 0
    print('%s (%s)' % (record['spec'].get('name', ''), appliance_id))
    _print(conf, members, ['member', 'site', 'state', 'server_id'])
    return 0


def appliance_delete(conf: cfg.ConfigOpts) -> int:
    _write(conf, 'appliance.delete', {'appliance_id': conf.category.id})
    print(
        'appliance %s deleted: its servers are being removed'
        % conf.category.id
    )
    return 0


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


def policy_set(conf: cfg.ConfigOpts) -> int:
    value = conf.category.value.lower()
    if value not in ('true', 'false'):
        raise exception.SodosError(
            'policy %s takes true or false, not %r'
            % (conf.category.key, conf.category.value)
        )
    _write(
        conf,
        'policy.set',
        {'key': conf.category.key, 'value': value == 'true'},
    )
    print('policy %s = %s' % (conf.category.key, value))
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
        report = whatif.ask(planner, kb, failed, drained)
    except ValueError as exc:
        raise exception.SodosError(str(exc)) from exc
    if conf.category.format == 'json':
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(whatif.as_text(report))
    return 0


def _print(conf: cfg.ConfigOpts, rows: list[dict], columns: list[str]) -> None:
    if conf.category.format == 'json':
        print(json.dumps(rows, indent=2))
        return
    table = prettytable.PrettyTable(columns)
    table.align = 'l'
    for row in rows:
        table.add_row([row.get(c, '') for c in columns])
    print(table.get_string())


COMMANDS: dict[tuple[str, str], Callable[[cfg.ConfigOpts], int]] = {
    ('appliance', 'create'): appliance_create,
    ('appliance', 'list'): appliance_list,
    ('appliance', 'show'): appliance_show,
    ('appliance', 'delete'): appliance_delete,
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

    group = subparsers.add_parser('appliance', help='appliances')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    create = actions.add_parser('create', help='validate and create')
    create.add_argument('--file', required=True, help='spec, YAML or JSON')
    create.add_argument(
        '--wait',
        type=float,
        default=0.0,
        metavar='SECONDS',
        help='wait until every member is ACTIVE, showing progress',
    )
    fmt(actions.add_parser('list', help='every appliance'))
    for name in ('show', 'delete'):
        parser = actions.add_parser(name, help='%s one appliance' % name)
        parser.add_argument('id')
        fmt(parser)

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
    setter.add_argument('key', choices=['consolidate', 'paused'])
    setter.add_argument('value', help='true or false')

    group = subparsers.add_parser('plan', help='ask the planner')
    actions = group.add_subparsers(dest='action')
    actions.required = True
    ask = actions.add_parser('whatif', help='what if sites fail or drain')
    ask.add_argument('--fail-site', action='append', metavar='SITE')
    ask.add_argument('--drain-site', action='append', metavar='SITE')
    fmt(ask)
