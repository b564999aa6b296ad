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

"""The fair-share arithmetic: entitlement, decayed usage, factor."""

import math

import pytest

from sodos.domain import fairshare


def test_entitlement_follows_contribution():
    found = fairshare.entitlements({'a': 30.0, 'b': 10.0, 'c': 0.0})
    assert found == {'a': 0.75, 'b': 0.25, 'c': 0.0}


def test_weights_replace_contribution_and_default_to_one():
    found = fairshare.entitlements(
        {'a': 30.0, 'b': 10.0, 'c': 0.0}, {'a': 1.0, 'b': 3.0, 'c': None}
    )
    # c has no weight: it weighs 1 like the default.
    assert found == {'a': 0.2, 'b': 0.6, 'c': 0.2}


def test_nothing_contributed_entitles_no_one():
    assert fairshare.entitlements({'a': 0.0, 'b': 0.0}) == {
        'a': 0.0,
        'b': 0.0,
    }


def test_usage_shares():
    assert fairshare.shares({'a': 3.0, 'b': 1.0}) == {'a': 0.75, 'b': 0.25}
    assert fairshare.shares({'a': 0.0}) == {'a': 0.0}


@pytest.mark.parametrize(
    'elapsed, expected',
    [
        (0.0, 8.0),
        (100.0, 4.0 + 2.0),  # one half-life: half the old, half the new
        (200.0, 2.0 + 3.0),  # two: a quarter of the old
        (-50.0, 8.0),  # a clock going back: no time passed
    ],
)
def test_decayed_mean(elapsed, expected):
    found = fairshare.decayed(8.0, 1000.0, 1000.0 + elapsed, 4.0, 100.0)
    assert found == pytest.approx(expected)


def test_decayed_mean_tends_to_the_current_usage():
    found = fairshare.decayed(100.0, 0.0, 10_000.0, 4.0, 100.0)
    assert found == pytest.approx(4.0)


def test_a_half_life_must_be_positive():
    with pytest.raises(ValueError, match='half_life'):
        fairshare.decayed(1.0, 0.0, 1.0, 1.0, 0.0)


@pytest.mark.parametrize(
    'entitled, used, expected',
    [
        (0.5, 0.0, 1.0),
        (0.5, 0.5, 0.5),
        (0.25, 0.5, 0.25),
        (0.5, 1.0, 0.25),
        (0.0, 0.0, 0.0),
    ],
)
def test_factor(entitled, used, expected):
    assert fairshare.factor(entitled, used) == pytest.approx(expected)


def test_factors_rank_owners_by_usage_against_entitlement():
    entitled = {'a': 0.5, 'b': 0.5}
    found = fairshare.factors(entitled, {'a': 30.0, 'b': 10.0})
    assert found['b'] > found['a']
    assert found == pytest.approx(
        {'a': math.pow(2, -0.75 / 0.5), 'b': math.pow(2, -0.25 / 0.5)}
    )
    # An owner missing from the usage used nothing.
    assert fairshare.factors(entitled, {'a': 1.0})['b'] == 1.0
