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

"""The site as Prometheus sees it: families read at scrape time."""

from prometheus_client import generate_latest
from prometheus_client import registry as prom_registry

from sodos import exception
from sodos.observe import collector
from sodos.observe import scrape


def values(families):
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families
        for s in family.samples
    }


def test_a_follower_lags_by_what_the_leader_committed_and_it_did_not_apply():
    found = values(
        collector.raft_families(
            {
                'term': 7,
                'role': 'readonly',
                'is_leader': False,
                'has_quorum': True,
                'leader_site': 'site-2',
                'commit_index': 40,
                'last_applied': 38,
                'leader_commit_index': 45,
            }
        )
    )
    assert found[('sodos_raft_term', ())] == 7
    assert found[('sodos_raft_voter', ())] == 0
    assert found[('sodos_raft_leader', ())] == 0
    assert found[('sodos_raft_leader_info', (('leader_site', 'site-2'),))] == 1
    assert found[('sodos_raft_applied_index', ())] == 38
    assert found[('sodos_raft_replication_lag_entries', ())] == 7


def test_the_leader_lags_by_what_it_committed_and_did_not_apply():
    found = values(
        collector.raft_families(
            {
                'role': 'voter',
                'is_leader': True,
                'commit_index': 10,
                'last_applied': 9,
                'leader_commit_index': None,
            }
        )
    )
    assert found[('sodos_raft_leader', ())] == 1
    assert found[('sodos_raft_voter', ())] == 1
    assert found[('sodos_raft_replication_lag_entries', ())] == 1
    # No leader known: no leader_info series rather than a false one.
    assert not [k for k in found if k[0] == 'sodos_raft_leader_info']


KB = {
    'sites': {
        'a': {'status': 'up'},
        'b': {'status': 'up'},
        'c': {'status': 'down'},
        'd': {'status': 'left'},
    },
    'alerts': {
        '1': {'kind': 'site_down'},
        '2': {'kind': 'overload'},
        '3': {'kind': 'overload'},
    },
    'actions': {
        '1': {'kind': 'image.copy', 'state': 'running'},
        '2': {'kind': 'image.copy', 'state': 'running'},
        '3': {'kind': 'server.create', 'state': 'failed'},
        '4': {'kind': 'server.create', 'state': 'done'},
    },
    'identity': {
        'projects': {'p1': {}, 'p2': {}},
        'users': {'u1': {}},
        'groups': {},
        'idmap': {
            'a': {'projects': {'p1': 'x', 'p2': 'y'}, 'users': {'u1': 'z'}},
            'b': {'projects': {'p1': 'x'}},
        },
    },
}


def test_kb_families_count_by_state_and_kind():
    found = values(collector.kb_families(KB))
    assert found[('sodos_sites', (('state', 'up'),))] == 2
    assert found[('sodos_sites', (('state', 'down'),))] == 1
    assert found[('sodos_sites', (('state', 'left'),))] == 1
    assert found[('sodos_alerts_open', (('kind', 'overload'),))] == 2
    assert found[('sodos_alerts_open', (('kind', 'site_down'),))] == 1
    create = (('kind', 'server.create'),)
    assert found[('sodos_actions', create + (('state', 'failed'),))] == 1
    assert found[('sodos_actions', create + (('state', 'done'),))] == 1
    # Queued and running shown at 0 rather than missing.
    assert found[('sodos_actions', create + (('state', 'pending'),))] == 0
    assert found[('sodos_image_copies_in_flight', ())] == 2
    lag = 'sodos_identity_convergence_lag_objects'
    assert found[(lag, (('site', 'a'),))] == 0
    assert found[(lag, (('site', 'b'),))] == 2
    assert found[(lag, (('site', 'c'),))] == 3
    assert (lag, (('site', 'd'),)) not in found  # it left
    assert found[('sodos_kb_size_bytes', ())] > 0


class Fake:
    def __init__(self, status=None, kb=None, fail=False):
        self._status, self._kb, self.fail = status, kb, fail

    def status(self):
        if self.fail:
            raise exception.PeerUnreachable('gone')
        return self._status

    def read(self):
        if self._kb is None:
            raise exception.NotReady('not caught up yet')
        return self._kb


def expose(knowmon, files=None):
    reg = prom_registry.CollectorRegistry(auto_describe=False)
    reg.register(
        collector.SiteCollector(
            knowmon, lambda: files or {'journal': 0, 'dump': 0}
        )
    )
    return generate_latest(reg).decode()


def test_an_unreachable_knowmon_says_so_and_nothing_else():
    text = expose(Fake(fail=True))
    assert scrape.samples(text) == {('sodos_knowmon_up', ()): 0.0}


def test_every_family_made_is_listed_and_named_with_its_unit():
    text = expose(
        Fake({'term': 1, 'role': 'voter', 'leader_site': 'a'}, KB),
        {'journal': 1234, 'dump': 56},
    )
    assert scrape.value(text, 'sodos_kb_journal_size_bytes') == 1234
    assert scrape.value(text, 'sodos_kb_dump_size_bytes') == 56
    names = {name for name, _ in scrape.samples(text)}
    assert names == set(collector.METRICS)


def test_a_member_catching_up_says_where_it_stands_without_counts():
    text = expose(Fake({'term': 2, 'role': 'readonly', 'ready': False}))
    assert scrape.value(text, 'sodos_knowmon_up') == 1
    assert scrape.value(text, 'sodos_raft_term') == 2
    assert scrape.value(text, 'sodos_kb_journal_size_bytes') == 0
    assert not [n for n, _ in scrape.samples(text) if n == 'sodos_sites']
