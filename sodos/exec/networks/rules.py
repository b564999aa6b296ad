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


"""What to do with a network definition given what the site has.

Pure functions, so that the rules are tested without a cloud. For a
network named N with CIDR C at this site, in the project:

* none named N: **create** it (and its subnet C);
* one sodos made: **use** it, adding the subnet C if a crash left it out;
  a subnet sodos made with another CIDR is refused;
* one sodos did not make, with a subnet C: **adopt** it (used, never
  removed); with no subnet C: **refuse**, saying what it has.

The security group named N likewise: **create** (then add every rule),
**use** one sodos made (adding the rules it lacks), **adopt** one that
has exactly the rules asked for, **refuse** one that has others. Rules
compare as IPv4 (direction, protocol, ports, remote); every group has
the service's default egress rule, so it counts as asked for.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from sodos.domain import networks as networks_mod
from sodos.exec.networks import store as store_mod

CREATE = 'create'
USE = 'use'
ADOPT = 'adopt'
REFUSE = 'refuse'

RuleKey = tuple[str, str, int, int, str]
# Neutron gives every new group "egress, any protocol, anywhere".
DEFAULT_EGRESS: RuleKey = ('egress', '', 0, 0, '')


@dataclasses.dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ''
    network: store_mod.Resource | None = None
    subnet: store_mod.Resource | None = None
    group: store_mod.Resource | None = None
    missing_rules: tuple[RuleKey, ...] = ()


def made_by_sodos(resource: store_mod.Resource) -> bool:
    return resource.get('description') == store_mod.MADE_BY_SODOS


def choose_network(
    name: str,
    cidr: str,
    found: list[store_mod.Resource],
    subnets: dict[str, list[store_mod.Resource]],
) -> Decision:
    """``found``: the project's networks named ``name``; ``subnets``:
    their subnets by network id."""
    ours = sorted(
        (n for n in found if made_by_sodos(n)), key=lambda n: n['id']
    )
    if ours:
        network = ours[0]
        have = subnets.get(network['id'], [])
        subnet = _with_cidr(have, cidr)
        if subnet is None and have:
            return Decision(
                REFUSE,
                'network %s (made by sodos) has subnet %s, not the CIDR %s '
                'the spec asks for' % (name, _cidrs(have), cidr),
            )
        return Decision(USE, network=network, subnet=subnet)
    for network in sorted(found, key=lambda n: n['id']):
        subnet = _with_cidr(subnets.get(network['id'], []), cidr)
        if subnet is not None:
            return Decision(ADOPT, network=network, subnet=subnet)
    if found:
        return Decision(
            REFUSE,
            'a network named %s exists that sodos did not make, with '
            'subnet(s) %s, not the CIDR %s the spec asks for'
            % (
                name,
                ', '.join(
                    _cidrs(subnets.get(n['id'], [])) or 'none' for n in found
                ),
                cidr,
            ),
        )
    return Decision(CREATE)


def choose_group(
    name: str,
    wanted: set[RuleKey],
    found: list[store_mod.Resource],
) -> Decision:
    """``found``: the project's security groups named ``name``."""
    wanted = wanted | {DEFAULT_EGRESS}
    ours = sorted(
        (g for g in found if made_by_sodos(g)), key=lambda g: g['id']
    )
    if ours:
        group = ours[0]
        missing = wanted - rule_keys(group)
        return Decision(USE, group=group, missing_rules=tuple(sorted(missing)))
    for group in sorted(found, key=lambda g: g['id']):
        if rule_keys(group) == wanted:
            return Decision(ADOPT, group=group)
    if found:
        have = rule_keys(found[0])
        return Decision(
            REFUSE,
            'a security group named %s exists that sodos did not make, '
            'with other rules: it lacks %s and has %s besides'
            % (
                name,
                _rules(wanted - have) or 'none',
                _rules(have - wanted) or 'none',
            ),
        )
    return Decision(
        CREATE, missing_rules=tuple(sorted(wanted - {DEFAULT_EGRESS}))
    )


def wanted_rules(definition: dict) -> set[RuleKey]:
    """The rules a network definition asks its security group for."""
    rules = (definition.get('security_group') or {}).get('rules') or []
    return {_normal(networks_mod.rule_key(rule)) for rule in rules}


def rule_keys(group: store_mod.Resource) -> set[RuleKey]:
    """A group's IPv4 rules as keys (a rule naming a remote group keeps
    it, so that it never equals a CIDR rule)."""
    keys = set()
    for rule in group.get('rules') or []:
        if rule.get('ethertype', 'IPv4') != 'IPv4':
            continue
        remote = rule.get('remote_ip_prefix') or ''
        if rule.get('remote_group_id'):
            remote = 'group:%s' % rule['remote_group_id']
        keys.add(
            _normal(
                (
                    rule['direction'],
                    str(rule.get('protocol') or ''),
                    int(rule.get('port_range_min') or 0),
                    int(rule.get('port_range_max') or 0),
                    remote,
                )
            )
        )
    return keys


def neutron_rule(key: RuleKey) -> store_mod.Resource:
    """A rule key as the fields Neutron takes."""
    direction, protocol, low, high, remote = key
    return {
        'direction': direction,
        'ethertype': 'IPv4',
        'protocol': protocol or None,
        'port_range_min': low or None,
        'port_range_max': high or None,
        'remote_ip_prefix': remote or None,
    }


def _normal(key: RuleKey) -> RuleKey:
    direction, protocol, low, high, remote = key
    if remote and not remote.startswith('group:'):
        network = ipaddress.ip_network(remote, strict=False)
        remote = '' if network.prefixlen == 0 else str(network)
    return (direction, protocol, low, high, remote)


def _with_cidr(
    subnets: list[store_mod.Resource], cidr: str
) -> store_mod.Resource | None:
    wanted = ipaddress.ip_network(cidr)
    for subnet in sorted(subnets, key=lambda s: s['id']):
        if ipaddress.ip_network(subnet['cidr'], strict=False) == wanted:
            return subnet
    return None


def _cidrs(subnets: list[store_mod.Resource]) -> str:
    return ', '.join(sorted(s['cidr'] for s in subnets))


def _rules(keys: set[RuleKey]) -> str:
    return ', '.join(
        '%s %s%s%s'
        % (
            direction,
            protocol or 'any',
            ' %d-%d' % (low, high) if low else '',
            ' from %s' % remote if remote else '',
        )
        for direction, protocol, low, high, remote in sorted(keys)
    )
