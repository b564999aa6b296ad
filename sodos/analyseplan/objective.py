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

"""What a placement costs, in one unit: money per hour.

Consolidation minimises it, the planner benchmark scores plans with it:

* every site that hosts sodos servers draws its idle power
  (``idle_power_kw`` of its profile), which emits ``carbon_intensity``
  gCO2/kWh times its PUE, priced at ``carbon_price`` per kg CO2;
* every server costs its vCPUs times the site's ``cost_per_vcpu_hour``.
"""

from __future__ import annotations

from typing import Any

DEFAULT_IDLE_POWER_KW = 5.0


def site_cost(profile: dict[str, Any], carbon_price: float) -> float:
    """Per hour, for keeping the site on for sodos."""
    kw = float(profile.get('idle_power_kw') or DEFAULT_IDLE_POWER_KW)
    grams = kw * float(profile.get('carbon_intensity') or 0.0)
    grams *= float(profile.get('pue') or 1.0)
    return grams / 1000.0 * carbon_price


def server_cost(profile: dict[str, Any], vcpus: float) -> float:
    """Per hour, for one server of ``vcpus`` there."""
    return vcpus * float(profile.get('cost_per_vcpu_hour') or 0.0)


def total(
    profiles: dict[str, dict[str, Any]],
    placement: dict[str, tuple[str, float]],
    carbon_price: float,
) -> float:
    """Cost of a placement: member key -> (site, vCPUs)."""
    active = {site for site, _ in placement.values()}
    cost = sum(site_cost(profiles[s], carbon_price) for s in active)
    cost += sum(
        server_cost(profiles[site], vcpus)
        for site, vcpus in placement.values()
    )
    return cost
