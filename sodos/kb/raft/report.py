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

"""The federation as one member and the leader see it, for operators."""

from __future__ import annotations

from typing import Any

import prettytable

from sodos import exception
from sodos.kb import failure_domains
from sodos.kb.raft import control


def gather(address: str, credentials: control.Credentials) -> dict[str, Any]:
    """Ask the member at ``address`` and, through it, the leader.

    Liveness and voter connections are known to the leader only, so a
    member that is not the leader forwards the question.
    """
    local = control.call(address, credentials, 'status')
    member = local['member']
    view = local
    leader = member.get('leader')
    if leader and leader != address:
        try:
            view = control.call(leader, credentials, 'status')
        except exception.SodosError:
            view = local
    return summarise(local, view)


def summarise(local: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    member, seen = local['member'], view['member']
    connected = {v['address']: v['connected'] for v in seen['voters']}
    liveness = view.get('liveness') or {}
    members = []
    for name in sorted(view['sites']):
        site = view['sites'][name]
        members.append(
            {
                'site': name,
                'address': site['address'],
                'role': site['role'],
                'status': site['status'],
                'connected': connected.get(site['address']),
                'last_heard_s': (
                    round(liveness[name], 1) if name in liveness else None
                ),
            }
        )
    return {
        'federation_id': view['federation'].get('id'),
        'asked': {
            'site': member['site'],
            'address': member['address'],
            'role': member['role'],
            'problem': local.get('problem'),
        },
        'leader': seen.get('leader'),
        'leader_site': seen.get('leader_site'),
        'term': seen.get('term'),
        'has_quorum': seen.get('has_quorum'),
        'commit_index': seen.get('commit_index'),
        'voters': seen['voters'],
        'failure_domains': failure_domains.summary(
            [v.get('site') or v['address'] for v in seen['voters']],
            view['sites'],
        ),
        'members': members,
    }


def as_text(report: dict[str, Any]) -> str:
    lines = [
        'Federation:  %s' % report['federation_id'],
        'Leader:      %s (%s), term %s, %s'
        % (
            report['leader_site'],
            report['leader'],
            report['term'],
            'quorum' if report['has_quorum'] else 'NO QUORUM',
        ),
        'Voters:      %d (%d connected)'
        % (
            len(report['voters']),
            sum(1 for v in report['voters'] if v['connected']),
        ),
    ]
    domains = report['failure_domains']
    lines.append(
        'Regions:     %s'
        % (
            ', '.join(
                '%s (%s)' % (region, ', '.join(held))
                for region, held in domains['voter_regions'].items()
            )
            or 'none'
        )
    )
    if domains['warning']:
        lines.append('Warning:     %s' % domains['warning'])
    if report['asked'].get('problem'):
        lines.append('Problem:     %s' % report['asked']['problem'])
    table = prettytable.PrettyTable(
        ['Site', 'Address', 'Role', 'Status', 'Last heard (s)']
    )
    table.align = 'l'
    for m in report['members']:
        heard = '' if m['last_heard_s'] is None else m['last_heard_s']
        table.add_row([m['site'], m['address'], m['role'], m['status'], heard])
    return '\n'.join(lines) + '\n' + table.get_string()
