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

"""The site as Prometheus sees it, read at scrape time.

A custom collector rather than gauges kept up to date: the Raft member's
state and the Knowledge Base already are the truth, and every process of
a site reads them through its KnowMon client, so a scrape reads them
once and no code path has to remember to update a gauge. Durations and
byte counts, which no state holds, are in :mod:`sodos.instruments`.

Every name starts with ``sodos_``; units end the names (``_seconds``,
``_bytes``, ``_entries``) and counters ``_total``, as Prometheus
recommends. :data:`METRICS` lists every family a process exports, for
the documentation and the dashboard's test.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from prometheus_client import core
from prometheus_client import registry

from sodos import exception
from sodos.identity import model

if TYPE_CHECKING:
    from sodos.knowmon.rpcapi import KnowMonClient

Family = core.GaugeMetricFamily
# Action states a dashboard shows even when none are in them.
ACTION_STATES = ('pending', 'running', 'failed')
# Name -> help of every family this collector makes.
METRICS: dict[str, str] = {
    'sodos_knowmon_up': "1 when the site's KnowMon answered this scrape.",
    'sodos_raft_term': 'The Raft term as this KB member knows it.',
    'sodos_raft_commit_index': "Index of the member's last committed entry.",
    'sodos_raft_applied_index': "Index of the member's last applied entry.",
    'sodos_raft_leader': '1 when this member is the Raft leader.',
    'sodos_raft_leader_info': 'The leader this member follows (its site).',
    'sodos_raft_voter': '1 for a voter, 0 for a read-only member.',
    'sodos_raft_in_quorum': '1 while the member is in contact with a quorum.',
    'sodos_raft_replication_lag_entries': (
        'Entries the leader committed that this member has not applied.'
    ),
    'sodos_sites': 'Sites of the federation by state.',
    'sodos_alerts_open': 'Open alerts by kind.',
    'sodos_actions': 'Actions in the KB by kind and state.',
    'sodos_image_copies_in_flight': 'Image copies running at any site.',
    'sodos_identity_convergence_lag_objects': (
        'Projects, users and groups of the KB a site has not created yet.'
    ),
    'sodos_kb_size_bytes': 'Size of the Knowledge Base state, as JSON.',
    'sodos_kb_journal_size_bytes': "Size of the member's Raft journal file.",
    'sodos_kb_dump_size_bytes': "Size of the member's full dump file.",
}


def gauge(name: str, labels: list[str] | None = None) -> Family:
    return Family(name, METRICS[name], labels=labels)


def single(name: str, value: float) -> Family:
    family = gauge(name)
    family.add_metric([], value)
    return family


def raft_families(status: dict[str, Any]) -> list[Family]:
    """The member's Raft state (``KnowMonClient.status()``)."""
    applied = status.get('last_applied', 0)
    committed = status.get('commit_index', 0)
    leader_commit = status.get('leader_commit_index')
    if status.get('is_leader') or leader_commit is None:
        leader_commit = committed
    leader = gauge('sodos_raft_leader_info', ['leader_site'])
    leader_site = status.get('leader_site') or status.get('leader')
    if leader_site:
        leader.add_metric([leader_site], 1)
    return [
        single('sodos_raft_term', status.get('term', 0)),
        single('sodos_raft_commit_index', committed),
        single('sodos_raft_applied_index', applied),
        single('sodos_raft_leader', bool(status.get('is_leader'))),
        leader,
        single('sodos_raft_voter', status.get('role') == 'voter'),
        single('sodos_raft_in_quorum', bool(status.get('has_quorum'))),
        single(
            'sodos_raft_replication_lag_entries',
            max(0, leader_commit - applied),
        ),
    ]


def counted(
    name: str, labels: list[str], counts: collections.Counter[Any]
) -> Family:
    family = gauge(name, labels)
    for key, value in sorted(counts.items()):
        family.add_metric(list(key), value)
    return family


def kb_families(kb: dict[str, Any]) -> list[Family]:
    """What the Knowledge Base holds (the whole state, one read)."""
    sites = kb.get('sites') or {}
    actions = (kb.get('actions') or {}).values()
    by_kind_state = collections.Counter(
        (a.get('kind', 'unknown'), a.get('state', 'unknown')) for a in actions
    )
    for kind in {kind for kind, _ in by_kind_state}:
        for state in ACTION_STATES:
            by_kind_state.setdefault((kind, state), 0)
    return [
        counted(
            'sodos_sites',
            ['state'],
            collections.Counter(
                (s.get('status', 'unknown'),) for s in sites.values()
            ),
        ),
        counted(
            'sodos_alerts_open',
            ['kind'],
            collections.Counter(
                (a.get('kind', 'unknown'),)
                for a in (kb.get('alerts') or {}).values()
            ),
        ),
        counted('sodos_actions', ['kind', 'state'], by_kind_state),
        single(
            'sodos_image_copies_in_flight',
            by_kind_state.get(('image.copy', 'running'), 0),
        ),
        counted(
            'sodos_identity_convergence_lag_objects',
            ['site'],
            identity_lag(kb.get('identity') or {}, sites),
        ),
        single('sodos_kb_size_bytes', len(json.dumps(kb).encode())),
    ]


def identity_lag(
    ident: dict[str, Any], sites: dict[str, Any]
) -> collections.Counter[tuple[str]]:
    """Per site still in the federation, the KB's projects, users and
    groups missing from the ID map it writes after each pass."""
    idmap = ident.get('idmap') or {}
    lag: collections.Counter[tuple[str]] = collections.Counter()
    for name, site in sites.items():
        if site.get('status') == 'left':
            continue
        held = idmap.get(name) or {}
        lag[(name,)] = sum(
            len(set(ident.get(kind) or {}) - set(held.get(kind) or {}))
            for kind in model.MAPPED_KINDS
        )
    return lag


class SiteCollector(registry.Collector):
    """The site through this process's KnowMon client, at each scrape."""

    def __init__(
        self, knowmon: KnowMonClient, files: Callable[[], dict[str, int]]
    ) -> None:
        self.knowmon = knowmon
        # Bytes of the member's files (sodos.kb.raft.admin.files_on_disk).
        self.files = files

    def collect(self) -> Iterator[Family]:
        try:
            status = self.knowmon.status()
        except exception.SodosError:
            # Said by the gauge; the site's log already says why.
            yield single('sodos_knowmon_up', 0)
            return
        yield single('sodos_knowmon_up', 1)
        yield from raft_families(status)
        try:
            kb = self.knowmon.read()
        except exception.SodosError:
            # A member still catching up has no state to count yet; its
            # Raft families say where it stands.
            kb = None
        if kb is not None:
            yield from kb_families(kb)
        sizes = self.files()
        yield single('sodos_kb_journal_size_bytes', sizes['journal'])
        yield single('sodos_kb_dump_size_bytes', sizes['dump'])
