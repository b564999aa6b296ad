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

"""sodos-sim: a whole federation on one machine, played from a scenario.

A scenario (YAML, :mod:`sodos.sim.scenario`) names the sites, their
profiles and capacity, the appliances to place and timed events (a site
crashing, frozen, drained, overloaded, a policy switched).
:mod:`sodos.sim.runner` starts one real ``sodos-site`` process per site on
loopback and plays the events; :mod:`sodos.sim.report` samples the KB
into a timeline and says how the federation coped.
"""
