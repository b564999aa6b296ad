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

"""A change of the KB is applied from the last pass's view of the site,
without reading the site's whole identity again."""

import types

from sodos.exec.identity import sync as identity_sync
from sodos.identity import model


def _reads(sync):
    """The list that grows by one at each read of the site's identity."""
    reads = []
    snapshot = sync.writer.snapshot

    def counted():
        reads.append(True)
        return snapshot()

    sync.writer.snapshot = counted
    return reads


def test_kb_changes_are_applied_without_reading_the_site(ident, sync):
    reads = _reads(sync)
    ks = sync.writer
    ident.put('projects', 'p1')
    ident.put('users', 'alice', password='s3cret!')
    ident.put('groups', 'g1')
    sync.run_once()
    assert len(reads) == 1
    ident.assignment('member', ('user', 'alice'), ('project', 'p1'))
    ident.membership('g1', 'alice')
    ident.assignment('reader', ('group', 'g1'), ('project', 'p1'))
    calls = ks.calls
    line = sync.run_once()
    assert "from the last pass's view of the site" in line
    assert '3 change(s)' in line
    # The three writes, nothing read.
    assert ks.calls - calls == 3 and len(reads) == 1
    uid, pid = ks.find('users', 'alice'), ks.find('projects', 'p1')
    gid = ks.find('groups', 'g1')
    assert ('member', 'user', uid, 'project', pid) in ks.assignments
    assert ('reader', 'group', gid, 'project', pid) in ks.assignments
    assert (gid, uid) in ks.members
    # The password the first pass set is known set: not set again.
    ident.put('users', 'alice', enabled=False)
    line = sync.run_once()
    assert '1 change(s)' in line
    assert ks.store['users'][uid]['enabled'] is False
    assert ks.store['users'][uid][model.PASSWORD_VERSION] == 1
    assert 'password' not in line
    # A deletion takes its links with it, in the view as at the site.
    ident.delete('users', 'alice')
    ident.delete('groups', 'g1')
    line = sync.run_once()
    assert '4 change(s)' in line and len(reads) == 1
    assert ks.find('users', 'alice') is None and not ks.members
    assert not ks.assignments
    # A pass that reads the site finds nothing the view missed.
    line = sync.run_once(force=True)
    assert len(reads) == 2
    assert line.endswith(': 0 change(s)')


def test_a_hand_edit_the_view_hides_is_repaired_after_the_failure(ident, sync):
    reads = _reads(sync)
    ks = sync.writer
    ident.put('projects', 'p1')
    ident.put('users', 'alice')
    ident.assignment('member', ('user', 'alice'), ('project', 'p1'))
    sync.run_once()
    ks.delete('projects', ks.find('projects', 'p1'))
    ident.put('projects', 'p1', description='now described')
    line = sync.run_once()
    assert '1 failed (update project p1' in line
    # No change in the KB since: the failure alone calls for a pass,
    # which reads the site and rebuilds the project and its grant.
    line = sync.run_once()
    assert len(reads) == 2
    assert '2 change(s)' in line
    uid, pid = ks.find('users', 'alice'), ks.find('projects', 'p1')
    assert ks.store['projects'][pid]['description'] == 'now described'
    assert ('member', 'user', uid, 'project', pid) in ks.assignments


def test_the_audit_reads_the_site_however_often_the_kb_changes(
    ident, sync, monkeypatch
):
    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        identity_sync,
        'time',
        types.SimpleNamespace(monotonic=lambda: clock.now),
    )
    sync.conf.set_override('audit_interval', 300.0, 'identity')
    reads = _reads(sync)
    ident.put('projects', 'p1')
    sync.run_once()
    for n in range(3):
        clock.now += 100.0
        ident.put('projects', 'p%d' % (n + 2))
        sync.run_once()
    # Three KB changes, each less than the audit interval after the
    # one before: the last one is 300 s after the last read.
    assert len(reads) == 2
