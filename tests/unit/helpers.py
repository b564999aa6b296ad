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

"""Helpers shared by the unit tests."""

from unittest import mock

from sodos.exec.drivers import base as exec_driver
from sodos.exec.drivers.openstack import driver as os_driver


def site_driver(conf):
    """The Exec driver ``[exec]driver`` names. An openstack one gets a
    session that reaches no Keystone: its clients are made, not used."""
    with mock.patch.object(os_driver, 'session'):
        return exec_driver.load(conf)


class Wrapped:
    """A KnowMon API with some answers replaced."""

    def __init__(self, api, **answers):
        self.api = api
        self.answers = answers

    def __getattr__(self, name):
        if name in self.answers:
            answer = self.answers[name]
            if isinstance(answer, Exception):

                def fail(*args, **kwargs):
                    raise answer

                return fail
            return lambda *args, **kwargs: answer
        return getattr(self.api, name)
