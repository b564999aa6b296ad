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
"""Reading a local federation's status report (LocalFederation.report)."""


def voters(report):
    return [m['site'] for m in report['members'] if m['role'] == 'voter']


def formed(count, voter_count):
    """``count`` sites up, ``voter_count`` of them voters, all connected.

    A test that makes a fault waits for this first: a fault that meets a
    promotion under way (two voters, one of them faulted) leaves no
    quorum to notice it.
    """

    def check(report):
        return (
            len(report['members']) == count
            and len(voters(report)) == voter_count
            and sum(v['connected'] for v in report['voters']) == voter_count
            and all(m['status'] == 'up' for m in report['members'])
        )

    return check
