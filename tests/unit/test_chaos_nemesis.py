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

"""The chaos suite's nemesis, on a federation of fakes."""

import itertools
import threading

import pytest

from sodos import exception
from tests.chaos import fault_kinds
from tests.chaos import nemesis
from tests.chaos import workload


class FakeSite:
    def __init__(self, fed, name, data_dir):
        self.fed = fed
        self.name = name
        self.data_dir = data_dir
        self.down = False
        # The environment of each start: libfaketime's, or None.
        self.starts = []

    def _down(self, down):
        with self.fed.lock:
            self.down = down
            self.fed.changed()

    def kill(self):
        self._down(True)

    def freeze(self):
        self._down(True)

    def start(self, env=None):
        self.starts.append(env)
        self._down(False)

    def thaw(self):
        self._down(False)


class FakeChurn:
    """A site leaves at the second look, and is down until it joins."""

    def __init__(self):
        self.looks = {}
        self.rejoined = []

    def leave(self, site):
        site._down(True)
        self.looks[site.name] = 0

    def has_left(self, site):
        if site.name not in self.looks:
            return False  # Never asked to leave.
        self.looks[site.name] += 1
        return self.looks[site.name] >= 2

    def rejoin(self, site, via):
        assert not via.down and via is not site
        self.rejoined.append(site.name)
        # Joined again: a member, with fresh files.
        self.looks.pop(site.name, None)
        site._down(False)


class FakeFederation:
    """Sites that go down and up, and links that are cut and healed: it
    counts the most sites ever cut off from a majority or down."""

    def __init__(self, count, tmp_path, network=True):
        self.lock = threading.Lock()
        self.most_down = 0
        self.cut_links = set()
        self.sites = {}
        for i in range(1, count + 1):
            name = 'site-%d' % i
            data_dir = tmp_path / name
            data_dir.mkdir()
            (data_dir / 'journal').write_bytes(b'\0' * 64)
            self.sites[name] = FakeSite(self, name, str(data_dir))
        # Sites whose links are slow or lossy.
        self.degraded = set()
        if network:
            self.cut = self._cut
            self.heal = self._heal
            self.degrade = self._degrade

    def leader(self):
        return self.sites['site-1']

    def _cut(self, groups):
        links = []
        with self.lock:
            for g1, g2 in itertools.combinations(groups, 2):
                for a, b in itertools.product(g1, g2):
                    assert (a, b) not in self.cut_links, 'cut twice'
                    self.cut_links.add((a, b))
                    links.append((a, b))
            self.changed()
        return links

    def _heal(self, links):
        with self.lock:
            for link in links:
                self.cut_links.remove(link)
            self.changed()

    def _degrade(self, name, **faults):
        with self.lock:
            if any(faults.values()):
                assert name not in self.degraded, 'degraded twice'
                self.degraded.add(name)
            else:
                self.degraded.remove(name)
            self.changed()

    def hears(self, a, b):
        return (a, b) not in self.cut_links and (b, a) not in self.cut_links

    def changed(self):
        # Down: down, or hearing less than a majority of the sites up.
        up = [n for n, s in self.sites.items() if not s.down]
        majority = len(self.sites) // 2 + 1
        down = len(self.sites) - len(up)
        down += sum(
            1
            for a in up
            if sum(self.hears(a, b) for b in up) < majority
            or a in self.degraded
        )
        self.most_down = max(self.most_down, down)


def run(
    seed,
    tmp_path,
    faults=30,
    network=True,
    kinds=None,
    recovered=None,
    faketime=None,
):
    fed = FakeFederation(5, tmp_path, network)
    nem = nemesis.Nemesis(
        fed,
        workload.History(),
        seed,
        faults=faults,
        interval=0.005,
        hold=(0.005, 0.03),
        kinds=kinds,
        recovered=recovered or (lambda site: not site.down),
        churn=FakeChurn(),
        faketime=faketime,
    )
    nem.start()
    assert nem.done.wait(30)
    nem.stop()
    return fed, nem


def test_never_more_than_two_down_and_all_healed(tmp_path):
    fed, faults = run(5, tmp_path, faults=60, faketime='/lib/faketime.so')
    assert len(faults.record) == 60
    assert fed.most_down == 2
    assert not any(s.down for s in fed.sites.values())
    assert fed.cut_links == set()
    assert fed.degraded == set()
    assert faults.active() == []
    assert {f['kind'] for f in faults.record} == set(fault_kinds.KINDS)


def test_bridge_and_ring_partitions_run_alone(tmp_path):
    _, faults = run(9, tmp_path, faults=60)
    for f in faults.record:
        if f['kind'] in fault_kinds.ALONE:
            beside = [
                g
                for g in faults.record
                if g is not f
                and g['start'] < f['end']
                and f['start'] < g['end']
            ]
            assert beside == [], f


def test_without_a_network_no_partitions(tmp_path):
    _, faults = run(5, tmp_path, faults=40, network=False)
    assert {f['kind'] for f in faults.record} == set(fault_kinds.PROCESS_KINDS)


def test_slow_and_lossy_links_are_drawn_and_healed(tmp_path):
    fed, faults = run(6, tmp_path, faults=20, kinds=('slow', 'lossy'))
    assert {f['kind'] for f in faults.record} == {'slow', 'lossy'}
    # Each counts its site as down; whether two overlap is timing's.
    assert fed.most_down <= 2
    assert fed.degraded == set()
    for f in faults.record:
        assert f['detail'].endswith(' ms' if f['kind'] == 'slow' else '%')


def test_a_skewed_site_runs_under_faketime_until_healed(tmp_path):
    fed, faults = run(
        8, tmp_path, faults=10, kinds=('skew',), faketime='/lib/ft.so'
    )
    for f in faults.record:
        assert 5 <= abs(f['skew']) <= 300
        site = fed.sites[f['site']]
        assert None in site.starts
    skewed = [e for s in fed.sites.values() for e in s.starts if e]
    assert len(skewed) == 10
    assert {e['LD_PRELOAD'] for e in skewed} == {'/lib/ft.so'}
    assert {e['FAKETIME'][0] for e in skewed} <= {'+', '-'}
    # Healed: every site's last start is on the true time.
    assert all(s.starts[-1] is None for s in fed.sites.values() if s.starts)


def test_partition_kinds_need_a_network(tmp_path):
    with pytest.raises(ValueError, match='partition-ring are not possible'):
        run(5, tmp_path, network=False, kinds=('kill', 'partition-ring'))


def test_the_seed_chooses_the_faults(tmp_path):
    def plan(seed, where):
        where.mkdir()
        _, faults = run(seed, where)
        return [(f['kind'], f['site']) for f in faults.record]

    # Later faults pick among the sites up then, which timing decides;
    # the first one is the seed's alone.
    assert plan(7, tmp_path / 'a')[0] == plan(7, tmp_path / 'b')[0]
    assert plan(7, tmp_path / 'c') != plan(8, tmp_path / 'd')


def test_bit_flips_are_healed_by_a_restart(tmp_path):
    fed, faults = run(4, tmp_path, faults=20, kinds=('bitflip',))
    flipped = [f['flipped'] for f in faults.record]
    assert all(f['file'] == 'journal' for f in flipped)
    assert not any(s.down for s in fed.sites.values())


def test_a_restarted_site_counts_as_down_until_it_has_recovered(
    tmp_path, monkeypatch
):
    # A restarted site is back at the third look only: meanwhile it
    # still counts as down.
    monkeypatch.setattr(nemesis, 'POLL', 0.005)
    looks = {}

    def recovered(site):
        looks[site.name] = looks.get(site.name, 0) + 1
        if site.down or looks[site.name] < 3:
            return False
        looks[site.name] = 0
        return True

    _, faults = run(
        2, tmp_path, faults=20, kinds=('kill', 'bitflip'), recovered=recovered
    )
    restarted = [f for f in faults.record if 'recovered' in f]
    assert len(restarted) == 20
    assert all(f['recovered'] > f['end'] for f in restarted)
    # At no time more than two sites killed or not yet recovered.
    times = sorted(
        [(f['start'], 1) for f in restarted]
        + [(f['recovered'], -1) for f in restarted]
    )
    down = most = 0
    for _, step in times:
        down += step
        most = max(most, down)
    assert most == 2


def test_a_churned_site_joins_again_once_it_has_left(tmp_path, monkeypatch):
    monkeypatch.setattr(nemesis, 'POLL', 0.005)
    fed, faults = run(3, tmp_path, faults=10, kinds=('churn',))
    assert sorted(faults.churn.rejoined) == sorted(
        f['site'] for f in faults.record
    )
    assert all(f['recovered'] >= f['end'] for f in faults.record)
    assert not any(s.down for s in fed.sites.values())


class LateChurn(FakeChurn):
    """Every leave is refused (its answer lost), then goes through."""

    def leave(self, site):
        super().leave(site)
        raise exception.SodosError('control request leave failed: timed out')


def test_a_leave_taken_for_refused_that_goes_through_is_healed(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(nemesis, 'POLL', 0.005)
    fed = FakeFederation(5, tmp_path)
    nem = nemesis.Nemesis(
        fed,
        workload.History(),
        3,
        faults=6,
        interval=0.005,
        hold=(0.005, 0.03),
        kinds=('churn', 'kill'),
        recovered=lambda site: not site.down,
        churn=LateChurn(),
    )
    nem.start()
    assert nem.done.wait(30)
    nem.stop()
    nem.heal_all()
    churned = {f['site'] for f in nem.record if f['kind'] == 'churn'}
    assert churned
    assert all(f.get('refused') for f in nem.record if f['kind'] == 'churn')
    # Each left after all and joined again, rather than stay out.
    assert churned <= set(nem.churn.rejoined)
    assert not any(nem.churn.has_left(s) for s in fed.sites.values())
    assert not any(s.down for s in fed.sites.values())
