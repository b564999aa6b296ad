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


"""The networks an appliance's members attach to.

Definitions are federation-wide: a network named ``appnet`` means the
same network (name, CIDR, security group rules) at every site, in the
appliance's project. A spec gives them under ``networks:`` and each
member lists the names it attaches to::

    networks:
      - name: appnet
        cidr: 10.20.0.0/24
        sites: {lyon: {cidr: 10.21.0.0/24}}   # a site's own CIDR
        security_group:
          rules:
            - {direction: ingress, protocol: tcp, ports: '22',
               remote_cidr: 0.0.0.0/0}
            - {direction: ingress, protocol: icmp}
    members:
      - {name: web, image: cirros, flavor: m1.tiny, networks: [appnet]}

At each site Exec makes the network, one subnet with that CIDR and a
security group of the same name with these rules (sodos.exec.networks).
:func:`check` finds what is wrong in a spec's definitions and
:func:`clashes` what contradicts another appliance of the project;
both name the field.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sodos.domain import ownership
from sodos.domain import schemas

PROTOCOLS = ('tcp', 'udp', 'icmp', 'any')
# IPv4 subnets from a /8 to a /29 (a /30 leaves no room for servers).
MIN_PREFIX = 8
MAX_PREFIX = 29
_CIDR = {'type': 'string', 'minLength': 1, 'maxLength': 64}

RULE: dict[str, Any] = {
    'type': 'object',
    'required': ['direction'],
    'additionalProperties': False,
    'properties': {
        'direction': {'enum': ['ingress', 'egress']},
        'protocol': {'enum': list(PROTOCOLS)},
        # '22' or '8000-8080'; tcp and udp only.
        'ports': {'type': 'string', 'pattern': r'^[0-9]{1,5}(-[0-9]{1,5})?$'},
        'remote_cidr': _CIDR,
    },
}

NETWORK: dict[str, Any] = {
    'type': 'object',
    'required': ['name', 'cidr'],
    'additionalProperties': False,
    'properties': {
        'name': schemas.NAME,
        'cidr': _CIDR,
        'sites': {
            'type': 'object',
            'propertyNames': schemas.NAME,
            'additionalProperties': {
                'type': 'object',
                'required': ['cidr'],
                'additionalProperties': False,
                'properties': {'cidr': _CIDR},
            },
        },
        'security_group': {
            'type': 'object',
            'additionalProperties': False,
            'properties': {
                'rules': {'type': 'array', 'maxItems': 64, 'items': RULE},
            },
        },
    },
}

NETWORKS: dict[str, Any] = {
    'type': 'array',
    'maxItems': 16,
    'items': NETWORK,
}
MEMBER_NETWORKS: dict[str, Any] = {
    'type': 'array',
    'maxItems': 8,
    'uniqueItems': True,
    'items': schemas.NAME,
}


def check(spec: dict[str, Any]) -> list[str]:
    """What is wrong with the spec's networks, each naming its field."""
    problems: list[str] = []
    networks = spec.get('networks') or []
    seen: dict[str, int] = {}
    for index, network in enumerate(networks):
        field = 'data.networks[%d]' % index
        if network['name'] in seen:
            problems.append(
                '%s.name: network %s is defined twice (networks[%d])'
                % (field, network['name'], seen[network['name']])
            )
        seen.setdefault(network['name'], index)
        problems += _cidr_problems(field + '.cidr', network['cidr'])
        for site, override in sorted((network.get('sites') or {}).items()):
            problems += _cidr_problems(
                '%s.sites.%s.cidr' % (field, site), override['cidr']
            )
        rules = (network.get('security_group') or {}).get('rules') or []
        for number, rule in enumerate(rules):
            problems += _rule_problems(
                '%s.security_group.rules[%d]' % (field, number), rule
            )
    if not problems:
        problems += _overlaps(networks)
    for index, member in enumerate(spec.get('members') or []):
        for name in member.get('networks') or []:
            if name not in seen:
                problems.append(
                    'data.members[%d].networks: no network named %s in '
                    'data.networks' % (index, name)
                )
    return problems


def clashes(
    spec: dict[str, Any], others: dict[str, dict[str, Any]]
) -> list[str]:
    """Where the spec defines a network of its project differently from
    another appliance (``others``: the KB's appliances section)."""
    project = ownership.owner(spec)
    problems = []
    for index, network in enumerate(spec.get('networks') or []):
        for appliance_id, record in sorted(others.items()):
            theirs = record.get('spec') or {}
            if ownership.owner(theirs) != project:
                continue
            for other in theirs.get('networks') or []:
                if other['name'] == network['name'] and not same(
                    other, network
                ):
                    problems.append(
                        'data.networks[%d]: network %s is already defined '
                        'differently in project %s by appliance %s (%s)'
                        % (
                            index,
                            network['name'],
                            project or '(default)',
                            theirs.get('name', appliance_id),
                            describe(other),
                        )
                    )
    return problems


def same(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two definitions make the same network everywhere."""
    return normalised(one) == normalised(other)


def normalised(network: dict[str, Any]) -> dict[str, Any]:
    rules = (network.get('security_group') or {}).get('rules') or []
    return {
        'cidr': network['cidr'],
        'sites': {
            site: override['cidr']
            for site, override in (network.get('sites') or {}).items()
        },
        'rules': sorted(rule_key(r) for r in rules),
    }


def describe(network: dict[str, Any]) -> str:
    return 'cidr %s, %d rule(s)' % (
        network['cidr'],
        len((network.get('security_group') or {}).get('rules') or []),
    )


def cidr_at(network: dict[str, Any], site: str) -> str:
    """The network's CIDR at ``site`` (its override, or the default)."""
    override = (network.get('sites') or {}).get(site)
    return str(override['cidr'] if override else network['cidr'])


def rule_key(rule: dict[str, Any]) -> tuple[str, str, int, int, str]:
    """A rule as (direction, protocol, port_min, port_max, remote_cidr);
    0 for no port, '' for any protocol or remote."""
    low, high = port_range(rule.get('ports'))
    protocol = rule.get('protocol', 'any')
    return (
        rule['direction'],
        '' if protocol == 'any' else protocol,
        low,
        high,
        rule.get('remote_cidr', ''),
    )


def port_range(ports: str | None) -> tuple[int, int]:
    if not ports:
        return 0, 0
    low, _, high = ports.partition('-')
    return int(low), int(high or low)


def member_networks(spec: dict[str, Any], instance: str) -> list[dict]:
    """The definitions of the networks server ``instance`` (``web-0``)
    attaches to, in the member's order."""
    by_name = {n['name']: n for n in spec.get('networks') or []}
    for member in spec.get('members') or []:
        prefix = member['name'] + '-'
        suffix = instance[len(prefix) :]
        if instance.startswith(prefix) and suffix.isdigit():
            return [by_name[n] for n in member.get('networks') or []]
    return []


def _cidr_problems(field: str, value: str) -> list[str]:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return ['%s: %r is not a network CIDR (%s)' % (field, value, exc)]
    if network.version != 4:
        return ['%s: %s is not IPv4 (only IPv4 is supported)' % (field, value)]
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        return [
            '%s: %s: the prefix must be /%d to /%d'
            % (field, value, MIN_PREFIX, MAX_PREFIX)
        ]
    return []


def _rule_problems(field: str, rule: dict[str, Any]) -> list[str]:
    problems = []
    protocol = rule.get('protocol', 'any')
    if 'ports' in rule:
        low, high = port_range(rule['ports'])
        if protocol not in ('tcp', 'udp'):
            problems.append(
                '%s.ports: ports need protocol tcp or udp, not %s'
                % (field, protocol)
            )
        elif not 1 <= low <= high <= 65535:
            problems.append(
                '%s.ports: %r is not a port range within 1-65535'
                % (field, rule['ports'])
            )
    if 'remote_cidr' in rule:
        try:
            remote = ipaddress.ip_network(rule['remote_cidr'], strict=True)
        except ValueError as exc:
            problems.append(
                '%s.remote_cidr: %r is not a network CIDR (%s)'
                % (field, rule['remote_cidr'], exc)
            )
        else:
            if remote.version != 4:
                problems.append(
                    '%s.remote_cidr: %s is not IPv4'
                    % (field, rule['remote_cidr'])
                )
    return problems


def _overlaps(networks: list[dict[str, Any]]) -> list[str]:
    """Networks of the spec whose CIDRs overlap at some site: a member
    on both could not route to either."""
    problems = []
    sites = sorted({s for n in networks for s in n.get('sites') or {}})
    for first in range(len(networks)):
        for second in range(first + 1, len(networks)):
            for site in [''] + sites:
                one = cidr_at(networks[first], site)
                two = cidr_at(networks[second], site)
                if ipaddress.ip_network(one).overlaps(
                    ipaddress.ip_network(two)
                ):
                    where = ' at site %s' % site if site else ''
                    problems.append(
                        'data.networks[%d].cidr: %s overlaps %s of '
                        'networks[%d]%s' % (second, two, one, first, where)
                    )
                    break
    return problems
