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

"""Fixtures for the tests of code that plugs into sodos.

What a plugin author (a state backend, an Exec driver or action, a
planner filter or weigher) imports into their own tests, in the manner
of ``oslo_messaging.conffixture``: nothing here starts a site or needs
a service. sodos itself never imports this package. It holds none yet:
the first candidates are a memory state backend and the simulator Exec
driver, set up for a test.

The local federation of real site processes is part of the simulator
(:mod:`sodos.sim.federation`); the test bed of real OpenStack sites and
the helpers of sodos's own tests live under ``tests/`` in the source
tree and are not installed.
"""
