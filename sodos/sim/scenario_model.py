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

"""What a scenario is, what its file may hold, and how its errors are told.

The parts of a scenario once loaded (sites, appliances, events), the JSON
schema sodos-sim checks a file against, and the helpers that turn a
schema error into the file's line and the field's path.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import fastjsonschema
import yaml

from sodos import exception
from sodos.domain import appliance
from sodos.kb import schemas
from sodos.sim import owners as owners_mod

SITE_ACTIONS = ('crash', 'freeze', 'recover', 'drain', 'undrain', 'load')
# demand and release: an owner's extra appliances (sodos.sim.owners).
ACTIONS = SITE_ACTIONS + ('policy', 'demand', 'release')
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
_OWNER_NAME = owners_mod.OWNER_FIELDS['properties']['name']
_APPLIANCE['properties']['owner'] = _OWNER_NAME

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
                    owner=_OWNER_NAME,
                ),
            },
        },
        'owners': {
            'type': 'array',
            'maxItems': 100,
            'items': owners_mod.OWNER_FIELDS,
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
                    # demand, release: whose appliances.
                    'owner': _OWNER_NAME,
                    'note': {'type': 'string'},
                },
            },
        },
    },
}
validate = fastjsonschema.compile(SCHEMA)

# What the simulator driver offers by default (sodos.conf.simulator).


class InvalidScenario(exception.SodosError):
    """The scenario file is unreadable, malformed or contradictory."""


@dataclasses.dataclass
class Site:
    name: str
    region: str
    profile: dict[str, Any]  # [site_profile] options
    capacity: dict[str, int]  # hosts, vcpus and ram_mb per host
    owner: str = ''  # an owner's name in the scenario, '' for none

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
    owner: str = ''  # an owner's name in the scenario, '' for none


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
    owner: str = ''

    def describe(self) -> str:
        if self.action == 'policy':
            return 'policy %s=%s' % (self.key, str(self.value).lower())
        if self.action == 'demand':
            return 'demand %s +%d %s' % (self.owner, self.extra, self.flavor)
        if self.action == 'release':
            return 'release %s' % self.owner
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
    owners: list[owners_mod.Owner] = dataclasses.field(default_factory=list)

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Site name -> profile as the KB publishes it (for costs)."""
        return {s.name: dict(s.profile, region=s.region) for s in self.sites}


class Lines:
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


def field(path: list[Any]) -> str:
    out = ''
    for step in path:
        if isinstance(step, int) or str(step).isdigit():
            out += '[%s]' % step
        else:
            out += ('.' if out else '') + str(step)
    return out or '(top level)'


def schema_problem(exc: fastjsonschema.JsonSchemaValueException) -> str:
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


def unknown_key(
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
