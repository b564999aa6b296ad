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

:func:`load` checks the file against :data:`SCHEMA`, then what a schema
cannot say (names used twice, events naming unknown sites, a recover of a
site that never failed, appliances no site can take), and raises
:class:`InvalidScenario` naming the file, the line and the field.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from typing import Any

import fastjsonschema
import yaml

from sodos import exception
from sodos import jsonsafe
from sodos.domain import appliance
from sodos.exec.drivers.simulator import site as simulator
from sodos.kb import schemas

# Disruptions and their undoing; 'recover' undoes crash, freeze and load.
SITE_ACTIONS = ('crash', 'freeze', 'recover', 'drain', 'undrain', 'load')
ACTIONS = SITE_ACTIONS + ('policy',)
FAILURES = ('crash', 'freeze')

_NUMBER_MIN0 = {'type': 'number', 'minimum': 0}
_CAPACITY = {
    'type': 'object',
    'additionalProperties': False,
    'properties': {
        'hosts': {'type': 'integer', 'minimum': 1, 'maximum': 1000},
        'vcpus': {'type': 'integer', 'minimum': 1, 'maximum': 4096},
        'ram_mb': {'type': 'integer', 'minimum': 1024},
    },
}
_SITE_PROPERTIES: dict[str, Any] = {
    'region': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    'location': {
        'type': 'string',
        'pattern': r'^-?[0-9.]+, *-?[0-9.]+$',
    },
    'labels': {
        'type': 'object',
        'additionalProperties': {'type': 'string', 'pattern': '^[^,:]*$'},
    },
    'cost': _NUMBER_MIN0,
    'carbon_intensity': _NUMBER_MIN0,
    'pue': {'type': 'number', 'minimum': 1},
    'idle_power_kw': _NUMBER_MIN0,
    'capacity': _CAPACITY,
}
_APPLIANCE = copy.deepcopy(appliance.SCHEMA)
_APPLIANCE['properties']['count'] = {
    'type': 'integer',
    'minimum': 1,
    'maximum': 10000,
}

SCHEMA: dict[str, Any] = {
    'type': 'object',
    'required': ['sites'],
    'additionalProperties': False,
    'properties': {
        'name': schemas.NAME,
        'description': {'type': 'string'},
        'voters': {'enum': [1, 3, 5, 7]},
        'carbon_price': _NUMBER_MIN0,
        # Seconds to wait, after the last event, for the federation to
        # settle before the run ends.
        'settle': {'type': 'number', 'minimum': 0, 'maximum': 3600},
        # Seconds for the sites to form a federation, and for the
        # appliances to be ACTIVE, before the run is given up.
        'start_timeout': {'type': 'number', 'minimum': 1, 'maximum': 3600},
        # Extra options for every site, group -> option -> value.
        'settings': {
            'type': 'object',
            'additionalProperties': {'type': 'object'},
        },
        'defaults': {
            'type': 'object',
            'additionalProperties': False,
            'properties': _SITE_PROPERTIES,
        },
        'sites': {
            'type': 'array',
            'minItems': 1,
            'maxItems': 500,
            'items': {
                'type': 'object',
                'required': ['name'],
                'additionalProperties': False,
                'properties': dict(
                    _SITE_PROPERTIES,
                    name=schemas.NAME,
                    count={'type': 'integer', 'minimum': 1, 'maximum': 500},
                ),
            },
        },
        'appliances': {'type': 'array', 'items': _APPLIANCE},
        'events': {
            'type': 'array',
            'items': {
                'type': 'object',
                'required': ['at', 'action'],
                'additionalProperties': False,
                'properties': {
                    'at': _NUMBER_MIN0,
                    'action': {'enum': list(ACTIONS)},
                    'site': schemas.NAME,
                    'sites': {
                        'type': 'array',
                        'minItems': 1,
                        'items': schemas.NAME,
                    },
                    'region': {'type': 'string', 'minLength': 1},
                    'key': {'enum': ['paused', 'consolidate']},
                    'value': {'type': 'boolean'},
                    # load: hosts of the site failed (capacity lost) ...
                    'hosts_down': {'type': 'integer', 'minimum': 0},
                    # ... and extra appliances pinned to it (usage up).
                    'extra': {'type': 'integer', 'minimum': 0},
                    'flavor': {'type': 'string', 'minLength': 1},
                    'note': {'type': 'string'},
                },
            },
        },
    },
}
_validate = fastjsonschema.compile(SCHEMA)

# What the simulator driver offers by default (sodos.conf.simulator).
FLAVORS = simulator.parse_flavors(
    ['m1.tiny:1:512:1', 'm1.small:1:2048:20', 'm1.medium:2:4096:40']
    + ['m1.large:4:8192:80']
)
IMAGES = ('fake-image', 'cirros')
DEFAULT_CAPACITY = {'hosts': 2, 'vcpus': 16, 'ram_mb': 32768}


class InvalidScenario(exception.SodosError):
    """The scenario file is unreadable, malformed or contradictory."""


@dataclasses.dataclass
class Site:
    name: str
    region: str
    profile: dict[str, Any]  # [site_profile] options
    capacity: dict[str, int]  # hosts, vcpus and ram_mb per host

    def simulator_options(self) -> dict[str, Any]:
        return {
            'hosts': self.capacity['hosts'],
            'host_vcpus': self.capacity['vcpus'],
            'host_ram_mb': self.capacity['ram_mb'],
        }


@dataclasses.dataclass
class Appliance:
    name: str
    spec: dict[str, Any]  # validated, defaults filled in


@dataclasses.dataclass
class Event:
    index: int
    at: float
    action: str
    sites: list[str]
    key: str = ''
    value: bool = False
    hosts_down: int = 0
    extra: int = 0
    flavor: str = 'm1.small'
    note: str = ''

    def describe(self) -> str:
        if self.action == 'policy':
            return 'policy %s=%s' % (self.key, str(self.value).lower())
        what = '%s %s' % (self.action, ','.join(self.sites))
        if self.action == 'load':
            what += ' (%d host(s) down, %d extra)' % (
                self.hosts_down,
                self.extra,
            )
        return what


@dataclasses.dataclass
class Scenario:
    name: str
    path: str
    sites: list[Site]
    appliances: list[Appliance]
    events: list[Event]
    voters: int
    carbon_price: float = 0.1
    settle: float = 30.0
    start_timeout: float = 120.0
    settings: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=dict
    )
    description: str = ''

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Site name -> profile as the KB publishes it (for costs)."""
        return {s.name: dict(s.profile, region=s.region) for s in self.sites}


class _Lines:
    """Line numbers of a YAML document's fields, by path."""

    def __init__(self, text: str) -> None:
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def line(self, path: list[Any]) -> int:
        node = self.root
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for step in path:
            if isinstance(node, yaml.MappingNode):
                found = None
                for key, value in node.value:
                    if key.value == str(step):
                        found = key, value
                        break
                if found is None:
                    return line
                line = found[0].start_mark.line + 1
                node = found[1]
            elif isinstance(node, yaml.SequenceNode):
                try:
                    node = node.value[int(step)]
                except (ValueError, IndexError):
                    return line
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _field(path: list[Any]) -> str:
    out = ''
    for step in path:
        if isinstance(step, int) or str(step).isdigit():
            out += '[%s]' % step
        else:
            out += ('.' if out else '') + str(step)
    return out or '(top level)'


def _schema_problem(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """A short phrase for the broken rule, without fastjsonschema's
    ``data.x.y`` prefix (we name the field ourselves)."""
    rule, limit = exc.rule, exc.rule_definition
    phrases = {
        'minimum': 'must be >= %s',
        'maximum': 'must be <= %s',
        'exclusiveMinimum': 'must be > %s',
        'minItems': 'needs at least %s item(s)',
        'maxItems': 'takes at most %s item(s)',
        'minLength': 'must be at least %s character(s)',
        'maxLength': 'must be at most %s characters',
        'type': 'must be of type %s',
        'enum': 'must be one of %s',
        'pattern': 'must match %s',
        'required': 'is missing %s',
    }
    if rule in phrases:
        if rule == 'enum':
            limit = ', '.join(str(v) for v in limit)
        elif rule == 'required':
            limit = ', '.join(limit)
        return phrases[rule] % (limit,)
    message = exc.message or ''
    name = exc.name or ''
    if message.startswith(name):
        message = message[len(name) :].strip()
    return message


def _unknown_key(
    data: Any, path: list[Any], schema: dict[str, Any]
) -> list[Any]:
    """The path of the first property the schema does not allow (so the
    error points at its line rather than at the enclosing object)."""
    node, sub = data, schema
    for step in path[1:]:
        key = int(step) if str(step).isdigit() else step
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return path
        if isinstance(key, int):
            sub = sub.get('items', {})
        else:
            sub = sub.get('properties', {}).get(key, {})
    allowed = sub.get('properties', {})
    if isinstance(node, dict):
        for key in node:
            if key not in allowed:
                return path + [key]
    return path


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
        line = _Lines(text).line(exc.path) if exc.path else 1
        raise InvalidScenario(
            '%s line %d: %s: %s' % (label, line, _field(exc.path), exc.problem)
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
    lines = _Lines(text)

    def fail(where: list[Any], problem: str) -> InvalidScenario:
        return InvalidScenario(
            '%s line %d: %s: %s'
            % (label, lines.line(where), _field(where), problem)
        )

    try:
        _validate(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = list(exc.path or ['data'])
        problem = _schema_problem(exc)
        if exc.rule == 'additionalProperties':
            where = _unknown_key(data, where, SCHEMA)
            problem = 'unknown field'
        raise fail(where[1:], problem) from None
    return _build(data, fail, label, path)


def _build(data: dict[str, Any], fail: Any, label: str, path: str) -> Scenario:
    sites = _sites(data, fail)
    names = {s.name for s in sites}
    regions = {s.region for s in sites}
    appliances = _appliances(data, fail, names, regions, len(sites))
    events = _events(data, fail, sites)
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
            out.append(Appliance(name=name, spec=dict(spec, name=name)))
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
        if action == 'policy':
            if targets:
                raise fail(where + [targets[0]], 'policy takes no site')
            for key in ('key', 'value'):
                if key not in entry:
                    raise fail(where, 'policy needs %s' % key)
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
