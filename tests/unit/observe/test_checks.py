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

"""The health checks' verdicts, and the checks over what they read."""

import pytest

from sodos import exception
from sodos.db import migration
from sodos.observe import checks

GOOD = {
    'ready': True,
    'has_quorum': True,
    'leader': '127.0.0.1:9000',
    'leader_site': 'site-1',
    'role': 'readonly',
    'term': 4,
    'commit_index': 12,
    'last_applied': 11,
}


@pytest.mark.parametrize(
    'change, available, reason',
    [
        ({}, True, 'KB member in quorum'),
        ({'ready': False}, False, 'KB member not caught up with a leader'),
        ({'has_quorum': False}, False, 'KB member not in quorum'),
        (
            {'leader': None, 'leader_site': None},
            False,
            'KB member knows no leader',
        ),
    ],
)
def test_kb_verdict(change, available, reason):
    result = checks.kb_verdict(dict(GOOD, **change))
    assert (result.available, result.reason) == (available, reason)


def test_kb_details_say_where_the_member_stands():
    result = checks.kb_verdict(GOOD)
    assert result.details == (
        'role readonly, leader site-1, term 4, applied 11 of 12'
    )


class Unreachable:
    def status(self):
        raise exception.PeerUnreachable('no KnowMon on the bus')


def test_an_unreachable_knowmon_is_unhealthy_with_the_cause(conf):
    check = checks.KnowledgeBaseCheck(
        conf, {checks.KNOWMON_KEY: Unreachable()}
    )
    result = check.healthcheck(0)
    assert not result.available
    assert result.reason == 'KnowMon unreachable'
    assert result.details == 'no KnowMon on the bus'


def test_the_history_database_before_and_after_its_sync(conf):
    check = checks.HistoryDatabaseCheck(conf, {})
    before = check.healthcheck(0)
    assert not before.available
    assert before.reason == 'history database schema not current'
    assert 'never migrated' in before.details
    migration.upgrade(conf)
    after = check.healthcheck(0)
    assert after.available, after.details
    assert after.details == 'schema %s' % migration.head()


def test_an_unreachable_database_names_the_connection(conf, tmp_path):
    conf.set_override(
        'connection',
        'sqlite:///%s' % (tmp_path / 'missing' / 'dir' / 'db.sqlite'),
        'database',
    )
    result = checks.HistoryDatabaseCheck(conf, {}).healthcheck(0)
    assert not result.available
    assert result.reason == 'history database unreachable'
    assert 'db.sqlite' in result.details
