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

"""The repair step's time guard stretches with the machine's load, so a
busy planner gets the answer an idle one gets (within a bound)."""

import pytest

from sodos.analyseplan import repair


@pytest.fixture
def machine(monkeypatch):
    def set_load(load, cores=2):
        def getloadavg():
            if load is None:
                raise OSError('no load average here')
            return (load, load, load)

        monkeypatch.setattr(repair.os, 'getloadavg', getloadavg)
        monkeypatch.setattr(repair.os, 'cpu_count', lambda: cores)

    return set_load


@pytest.mark.parametrize(
    'load, cores, seconds',
    [
        (0.5, 2, 5.0),  # idle: the budget as given
        (2.0, 2, 5.0),  # every core busy: still one each
        (3.0, 2, 7.5),  # three processes on two cores
        (42.0, 2, 10.0),  # at most MAX_STRETCH times
        (None, 2, 5.0),  # no load average: as given
    ],
)
def test_the_budget_is_a_cores_time(machine, load, cores, seconds):
    machine(load, cores)
    assert repair.stretched(5.0) == pytest.approx(seconds)


def test_the_solver_is_given_the_stretched_budget(machine, monkeypatch):
    machine(3.0)
    given = []
    monkeypatch.setattr(repair, '_pairs', lambda *args: [(0, 0)])
    monkeypatch.setattr(
        repair, '_solve', lambda *args: given.append(args[-1]) or {}
    )
    repair._LAST.clear()

    class Table:
        used = total = []
        sharing = None

        def need(self, flavor):
            return (1, 1)

    assert repair.solve(Table(), {}, {}, [], 5.0) == {}
    assert given == [pytest.approx(7.5)]
