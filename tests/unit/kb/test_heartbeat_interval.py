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

"""How often a member reports to the leader: with the gossip detector
the gossip carries liveness, and the reports are rarer."""

from sodos.kb.raft import heartbeat


def test_the_heartbeat_detector_hears_every_member_each_interval(conf):
    conf.set_override('heartbeat_interval', 0.5, 'knowmon')
    conf.set_override('gossip_report_interval', 5.0, 'knowmon')
    assert heartbeat.interval(conf) == 0.5


def test_with_the_gossip_the_reports_are_rarer(conf):
    conf.set_override('failure_detector', 'gossip', 'knowmon')
    conf.set_override('heartbeat_interval', 0.5, 'knowmon')
    conf.set_override('gossip_report_interval', 5.0, 'knowmon')
    assert heartbeat.interval(conf) == 5.0
    # Never more often than the heartbeat detector would.
    conf.set_override('gossip_report_interval', 0.1, 'knowmon')
    assert heartbeat.interval(conf) == 0.5


def test_the_sender_follows_it(conf):
    conf.set_override('failure_detector', 'gossip', 'knowmon')
    conf.set_override('gossip_report_interval', 4.0, 'knowmon')

    class Backend:
        pass

    backend = Backend()
    backend.conf = conf
    sender = heartbeat.Sender(backend)
    assert sender._loop._interval() == 4.0
