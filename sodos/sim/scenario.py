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

"""Scenarios: what sodos-sim starts and what it does to it, from YAML.

::

    name: quickstart
    defaults:                     # merged into every site
      capacity: {hosts: 2, vcpus: 16, ram_mb: 32768}   # per host
    sites:
      - {name: paris, region: eu-west, cost: 0.02, carbon_intensity: 60}
      - {name: edge, count: 3}    # edge-1, edge-2, edge-3
    appliances:                   # appliance specs, plus count
      - name: shop
        members: [{name: web, image: fake-image, flavor: m1.small,
                   count: 2}]
        constraints: {spread: 2}
    events:                       # seconds after every member is ACTIVE
      - {at: 3, action: crash, site: paris}
      - {at: 15, action: recover, site: paris}

:func:`load` checks the file against the schema
(:mod:`sodos.sim.scenario_model`), then what a schema cannot say (names
used twice, events naming unknown sites, a recover of a site that never
failed, appliances no site can take), and raises
:class:`InvalidScenario` naming the file, the line and the field.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import fastjsonschema
import yaml

from sodos import exception
from sodos import jsonsafe
from sodos.domain import appliance
from sodos.exec.drivers.simulator import site as simulator
from sodos.sim import owners as owners_mod
from sodos.sim import scenario_model
from sodos.sim.scenario_model import Appliance
from sodos.sim.scenario_model import Event
from sodos.sim.scenario_model import InvalidScenario
from sodos.sim.scenario_model import Scenario
from sodos.sim.scenario_model import Site

# Disruptions and their undoing; 'recover' undoes crash, freeze and load.
FLAVORS = simulator.parse_flavors(
    ['m1.tiny:1:512:1', 'm1.small:1:2048:20', 'm1.medium:2:4096:40']
    + ['m1.large:4:8192:80']
)
IMAGES = ('fake-image', 'cirros')
DEFAULT_CAPACITY = {'hosts': 2, 'vcpus': 16, 'ram_mb': 32768}


def load(path: str) -> Scenario:
    """Read and check a scenario file, or :class:`InvalidScenario`."""
    label = os.path.basename(path)
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as exc:
        raise InvalidScenario(
            '%s: cannot read: %s' % (path, exc.strerror)
        ) from None
    return parse(text, label, path)


def parse(text: str, label: str = 'scenario', path: str = '') -> Scenario:
    try:
        # No NaN (.nan), lone surrogate or deep nesting: the report and
        # the commands made from the scenario are JSON.
        data = jsonsafe.load_yaml(text, label)
    except exception.InvalidJson as exc:
        # Without a path, the YAML reader may have run out of stack: its
        # line finder would too.
        line = scenario_model.Lines(text).line(exc.path) if exc.path else 1
        raise InvalidScenario(
            '%s line %d: %s: %s'
            % (label, line, scenario_model.field(exc.path), exc.problem)
        ) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise InvalidScenario(
            '%s line %d: not valid YAML: %s' % (label, line, exc.problem)
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidScenario(
            '%s: not valid YAML: %s' % (label, exc)
        ) from None
    lines = scenario_model.Lines(text)

    def fail(where: list[Any], problem: str) -> InvalidScenario:
        return InvalidScenario(
            '%s line %d: %s: %s'
            % (label, lines.line(where), scenario_model.field(where), problem)
        )

    try:
        scenario_model.validate(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = list(exc.path or ['data'])
        problem = scenario_model.schema_problem(exc)
        if exc.rule == 'additionalProperties':
            where = scenario_model.unknown_key(
                data, where, scenario_model.SCHEMA
            )
            problem = 'unknown field'
        raise fail(where[1:], problem) from None
    return _build(data, fail, label, path)


def _build(data: dict[str, Any], fail: Any, label: str, path: str) -> Scenario:
    owners = owners_mod.parse(data, fail)
    owners_mod.check_site_owners(data, owners, fail)
    sites = _sites(data, fail)
    names = {s.name for s in sites}
    regions = {s.region for s in sites}
    appliances = _appliances(data, fail, names, regions, len(sites))
    projects = {o.name: o.project_id for o in owners}
    for app in appliances:
        if app.owner:
            app.spec['project_id'] = projects[app.owner]
    events = _events(data, fail, sites)
    owners_mod.check_demands(events, {o.name for o in owners}, fail)
    voters = data.get('voters') or min(5, len(sites) - (len(sites) + 1) % 2)
    if voters > len(sites):
        raise fail(
            ['voters'], '%d voters but only %d sites' % (voters, len(sites))
        )
    return Scenario(
        name=data.get('name') or os.path.splitext(label)[0].replace(' ', '-'),
        path=path,
        sites=sites,
        appliances=appliances,
        events=events,
        voters=voters,
        carbon_price=float(data.get('carbon_price', 0.1)),
        settle=float(data.get('settle', 30.0)),
        start_timeout=float(data.get('start_timeout', 120.0)),
        settings=copy.deepcopy(data.get('settings') or {}),
        description=data.get('description', ''),
        owners=owners,
    )


def _sites(data: dict[str, Any], fail: Any) -> list[Site]:
    defaults = data.get('defaults') or {}
    sites: list[Site] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data['sites']):
        merged = dict(defaults, **entry)
        capacity = dict(DEFAULT_CAPACITY)
        capacity.update(defaults.get('capacity') or {})
        capacity.update(entry.get('capacity') or {})
        count = entry.get('count')
        names = (
            ['%s-%d' % (entry['name'], n) for n in range(1, count + 1)]
            if count
            else [entry['name']]
        )
        for name in names:
            if name in seen:
                raise fail(
                    ['sites', index, 'name'],
                    'site %s is already defined by sites[%d]'
                    % (name, seen[name]),
                )
            seen[name] = index
            profile: dict[str, Any] = {
                'cost_per_vcpu_hour': float(merged.get('cost', 0.0)),
                'carbon_intensity': float(
                    merged.get('carbon_intensity', 300.0)
                ),
                'pue': float(merged.get('pue', 1.5)),
                'idle_power_kw': float(merged.get('idle_power_kw', 5.0)),
                'labels': dict(merged.get('labels') or {}),
            }
            if merged.get('location'):
                profile['location'] = merged['location'].replace(' ', '')
            sites.append(
                Site(
                    name=name,
                    region=merged.get('region') or name,
                    profile=profile,
                    capacity=capacity,
                    owner=entry.get('owner', ''),
                )
            )
    return sites


def _appliances(
    data: dict[str, Any],
    fail: Any,
    sites: set[str],
    regions: set[str],
    site_count: int,
) -> list[Appliance]:
    out: list[Appliance] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data.get('appliances') or []):
        entry = dict(entry)
        count = entry.pop('count', None)
        owner = entry.pop('owner', '')
        try:
            spec = appliance.validate(entry)
        except appliance.InvalidAppliance as exc:
            problem = str(exc).replace('invalid appliance spec: ', '')
            where: list[Any] = ['appliances', index]
            # 'data.constraints.spread 4 needs ...': point at that field.
            match = re.match(r'data\.([\w.\[\]]+):? (.*)$', problem)
            if match:
                for part in re.findall(r'\w+|\[\d+\]', match.group(1)):
                    where.append(int(part[1:-1]) if part[0] == '[' else part)
                problem = match.group(2)
            raise fail(where, problem.replace('data', 'spec')) from None
        for m_index, member in enumerate(spec['members']):
            if member['flavor'] not in FLAVORS:
                raise fail(
                    ['appliances', index, 'members', m_index, 'flavor'],
                    'unknown flavor %s (the simulated sites have %s)'
                    % (member['flavor'], ', '.join(sorted(FLAVORS))),
                )
            if member['image'] not in IMAGES:
                raise fail(
                    ['appliances', index, 'members', m_index, 'image'],
                    'unknown image %s (the simulated sites have %s)'
                    % (member['image'], ', '.join(IMAGES)),
                )
        constraints = spec['constraints']
        unknown = sorted(set(constraints.get('sites') or []) - sites)
        if unknown:
            raise fail(
                ['appliances', index, 'constraints', 'sites'],
                'no site named %s' % ', '.join(unknown),
            )
        unknown = sorted(set(constraints.get('regions') or []) - regions)
        if unknown:
            raise fail(
                ['appliances', index, 'constraints', 'regions'],
                'no site in region %s' % ', '.join(unknown),
            )
        if constraints['spread'] > site_count:
            raise fail(
                ['appliances', index, 'constraints', 'spread'],
                'spread %d but only %d sites'
                % (constraints['spread'], site_count),
            )
        names = (
            ['%s-%d' % (spec['name'], n) for n in range(1, count + 1)]
            if count
            else [spec['name']]
        )
        for name in names:
            if name in seen:
                raise fail(
                    ['appliances', index, 'name'],
                    'appliance %s is already defined by appliances[%d]'
                    % (name, seen[name]),
                )
            seen[name] = index
            out.append(
                Appliance(name=name, spec=dict(spec, name=name), owner=owner)
            )
    return out


def _events(data: dict[str, Any], fail: Any, sites: list[Site]) -> list:
    names = {s.name for s in sites}
    by_region: dict[str, list[str]] = {}
    for site in sites:
        by_region.setdefault(site.region, []).append(site.name)
    raw = list(enumerate(data.get('events') or []))
    # Played in time order; a stable sort keeps the file's order at ties.
    raw.sort(key=lambda pair: pair[1]['at'])
    state: dict[str, str] = {}  # site -> crash / freeze / load / drain
    events: list[Event] = []
    for index, entry in raw:
        where = ['events', index]
        action = entry['action']
        targets = [k for k in ('site', 'sites', 'region') if k in entry]
        if action in ('policy', 'demand', 'release'):
            if targets:
                raise fail(where + [targets[0]], '%s takes no site' % action)
            needs = {'policy': ('key', 'value'), 'demand': ('owner', 'extra')}
            for key in needs.get(action, ('owner',)):
                if key not in entry:
                    raise fail(where, '%s needs %s' % (action, key))
            if action == 'demand' and entry['extra'] < 1:
                raise fail(where + ['extra'], 'demand needs extra >= 1')
            chosen: list[str] = []
        else:
            if len(targets) != 1:
                raise fail(
                    where,
                    '%s needs one of site, sites or region' % action,
                )
            if 'region' in entry:
                if entry['region'] not in by_region:
                    raise fail(
                        where + ['region'],
                        'no site in region %s' % entry['region'],
                    )
                chosen = list(by_region[entry['region']])
            else:
                chosen = [entry['site']] if 'site' in entry else entry['sites']
                for n, name in enumerate(chosen):
                    if name not in names:
                        field = ['site'] if 'site' in entry else ['sites', n]
                        raise fail(where + field, 'no site named %s' % name)
        if action == 'load':
            if not entry.get('hosts_down') and not entry.get('extra'):
                raise fail(where, 'load needs hosts_down or extra')
            for name in chosen:
                hosts = next(s for s in sites if s.name == name).capacity
                if entry.get('hosts_down', 0) > hosts['hosts']:
                    raise fail(
                        where + ['hosts_down'],
                        'site %s has only %d host(s)' % (name, hosts['hosts']),
                    )
        if entry.get('flavor', 'm1.small') not in FLAVORS:
            raise fail(where + ['flavor'], 'unknown flavor')
        _check_transition(state, action, chosen, where, fail)
        events.append(
            Event(
                index=index,
                at=float(entry['at']),
                action=action,
                sites=chosen,
                key=entry.get('key', ''),
                value=bool(entry.get('value', False)),
                hosts_down=int(entry.get('hosts_down', 0)),
                extra=int(entry.get('extra', 0)),
                flavor=entry.get('flavor', 'm1.small'),
                note=entry.get('note', ''),
                owner=entry.get('owner', ''),
            )
        )
    return events


def _check_transition(
    state: dict[str, str],
    action: str,
    sites: list[str],
    where: list[Any],
    fail: Any,
) -> None:
    """A site fails once before it recovers, and recovers only from a
    failure; drain and undrain pair up the same way."""
    for name in sites:
        now = state.get(name, '')
        if action in ('crash', 'freeze', 'load'):
            if now in ('crash', 'freeze', 'load'):
                raise fail(
                    where,
                    'site %s is already down or loaded (%s): recover it '
                    'first' % (name, now),
                )
            state[name] = action
        elif action == 'recover':
            if now not in ('crash', 'freeze', 'load'):
                raise fail(where, 'site %s has nothing to recover from' % name)
            state.pop(name)
        elif action == 'drain':
            if now:
                raise fail(
                    where, 'site %s is not in service (%s)' % (name, now)
                )
            state[name] = 'drain'
        elif action == 'undrain':
            if now != 'drain':
                raise fail(where, 'site %s is not draining' % name)
            state.pop(name)
