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

"""Exec on the simulated site, its timings made short."""

import pytest

from sodos.exec import role as exec_role


@pytest.fixture
def exec_conf(conf):
    for name, value in (
        ('boot_seconds', 0.0),
        ('delete_seconds', 0.0),
    ):
        conf.set_override(name, value, 'simulator')
    for name, value in (
        ('poll_interval', 0.01),
        ('retry_delay', 0.0),
        ('action_retries', 2),
        ('workers', 4),
    ):
        conf.set_override(name, value, 'exec')
    return conf


@pytest.fixture
def exec_for(exec_conf):
    made = []

    def make(api):
        role = exec_role.ExecRole(exec_conf, api)
        made.append(role)
        return role

    yield make
    for role in made:
        role._stop.set()
        role.executor.close()
