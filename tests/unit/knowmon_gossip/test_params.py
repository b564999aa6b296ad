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


import pytest

from sodos.knowmon.gossip import params as gossip_params

P = gossip_params.Params()


def test_suspicion_scales_with_log10_of_the_cluster():
    interval = P.probe_interval
    assert gossip_params.suspicion_min(P, 5) == pytest.approx(4 * interval)
    assert gossip_params.suspicion_min(P, 100) == pytest.approx(
        4 * 2 * interval
    )
    assert gossip_params.suspicion_max(P, 100) == pytest.approx(
        6 * 4 * 2 * interval
    )


def test_confirmations_bring_the_suspicion_down_to_its_minimum():
    n = 100
    timeouts = [gossip_params.suspicion_timeout(P, n, c) for c in range(5)]
    assert timeouts[0] == gossip_params.suspicion_max(P, n)
    assert timeouts == sorted(timeouts, reverse=True)
    assert timeouts[2] == timeouts[4] == gossip_params.suspicion_min(P, n)


def test_small_cluster_asks_for_no_confirmation():
    assert gossip_params.confirmations_wanted(P, 3) == 0
    assert gossip_params.suspicion_timeout(
        P, 3, 0
    ) == gossip_params.suspicion_min(P, 3)


def test_retransmit_limit_grows_with_log_of_the_cluster():
    assert gossip_params.retransmit_limit(P, 1) == 4
    assert gossip_params.retransmit_limit(P, 9) == 4
    assert gossip_params.retransmit_limit(P, 10) == 8
    assert gossip_params.retransmit_limit(P, 100) == 12


@pytest.mark.parametrize(
    'bad',
    [
        {'probe_timeout': 0.5},
        {'probe_timeout': 0.0},
        {'indirect_checks': 0},
        {'retransmit_mult': 0},
    ],
)
def test_inconsistent_parameters_are_refused(bad):
    with pytest.raises(ValueError):
        gossip_params.Params(**bad)


def test_another_interval_keeps_the_defaults_ratio_of_timeout():
    same = gossip_params.with_interval(P.probe_interval)
    assert same == P
    slower = gossip_params.with_interval(0.9)
    assert slower.probe_interval == 0.9
    assert slower.probe_timeout == pytest.approx(0.3)
    assert slower.indirect_checks == P.indirect_checks
