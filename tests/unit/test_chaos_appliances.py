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

"""The chaos suite's appliances: their creates and the end state read."""

from sodos import exception
from sodos.domain import appliance
from tests.chaos import appliances


class FlakyMember:
    """Times out the first submit of each command, commits the next."""

    def __init__(self):
        self.submitted = []

    def submit(self, command, timeout=None, check=True):
        self.submitted.append(command)
        if [c.id for c in self.submitted].count(command.id) == 1:
            raise exception.CommitTimeout('no quorum')
        return {'ok': True}


def test_a_create_that_timed_out_is_sent_again_as_the_same_command():
    member = FlakyMember()
    creator = appliances.Creator(member, count=2, every=0.0)
    creator.retry_pause = 0.0
    creator._run()
    assert len(creator.acked) == 2
    ids = [c.id for c in member.submitted]
    # Each command twice, the same id: the KB applies it once.
    assert ids == [ids[0], ids[0], ids[2], ids[2]]
    assert ids[0] != ids[2]
    args = [c.args for c in member.submitted[::2]]
    assert [a['appliance_id'] for a in args] == creator.acked


def test_the_spec_is_valid_and_has_the_members_counted():
    spec = appliance.validate(dict(appliances.SPEC, name='x'))
    found = appliance.instances('a' * 32, spec)
    assert len(found) == appliances.MEMBERS


def test_servers_are_read_per_site_from_the_monitoring_reports():
    monitoring = {
        'site-1': {
            'summary': {
                'servers': {
                    'a/web-0': {'id': '1', 'status': 'ACTIVE'},
                    'a/web-1': {'id': '2', 'status': 'DELETED'},
                }
            }
        },
        # A site that never reported its cloud: no servers.
        'site-2': {'summary': {'api': {'ok': False}}},
    }
    assert appliances.servers_by_site(monitoring) == {
        'site-1': {'a/web-0': 'ACTIVE', 'a/web-1': 'DELETED'},
        'site-2': {},
    }
