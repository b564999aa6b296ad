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

"""The install guide's tested blocks: well formed, and every example
name in them replaced by the test bed's (tests/install_guide.py)."""

from __future__ import annotations

import pytest

from tests import install_guide as guide

SITES = [
    guide.Site(
        name='site-%d' % i,
        region='region-%d' % i,
        auth_url='http://127.0.0.1:%d/v3' % (5000 + i),
        nova_bus_url='rabbit://guest:guest@127.0.0.1:5672/site-%d' % i,
        broker='127.0.0.1:5672',
        database_host='127.0.0.1:3306',
        database_name='site_%d_history' % i,
        raft_address='127.0.0.1:%d' % (20000 + 4 * i),
        relay_port=21000 + i,
        api_address='127.0.0.1:%d' % (22000 + i),
        etc_dir='/tmp/guide/site-%d/etc' % i,
        state_dir='/tmp/guide/site-%d/state' % i,
        bin_dir='/tmp/guide/bin',
        image='fake-image',
    )
    for i in range(3)
]


def block(marker, body, language='shell'):
    return (
        'Text.\n\n.. install-test: %s\n\n.. code-block:: %s\n\n%s\nMore.\n'
        % (marker, language, ''.join('    %s\n' % b for b in body))
    )


def test_the_guide_marks_the_steps_a_site_needs_in_order():
    blocks = guide.read()
    kinds = [(b.kind, b.argument, b.at) for b in blocks]
    assert ('file', '/etc/sodos/sodos.conf', 'each') in kinds
    assert ('unit', 'sodos-knowmon', 'each') in kinds
    assert ('unit', 'sodos-api', 'each') in kinds
    started = [
        (b.at, c)
        for b in blocks
        if b.kind == 'run'
        for c in guide.commands(b.text)
        if 'federation bootstrap' in c or 'federation join' in c
    ]
    assert [at for at, _ in started] == ['first', 'others']
    lines = [b.line for b in blocks]
    assert lines == sorted(lines)


@pytest.mark.parametrize(
    'marked',
    [b for b in guide.read() if b.kind != 'skip'],
    ids=lambda b: 'line-%d' % b.line,
)
def test_the_test_bed_replaces_every_example_name(marked):
    for site in SITES:
        assert guide.leftovers(marked, site, SITES[0]) == [], (
            'line %d: not replaced at %s' % (marked.line, site.name)
        )


def test_a_joining_site_names_the_first_sites_address():
    (join,) = [
        b
        for b in guide.read()
        if b.kind == 'run' and 'federation join' in b.text
    ]
    text = guide.substitute(join, SITES[1], SITES[0])
    assert '--peer %s' % SITES[0].raft_address in guide.commands(text)[0]


def test_the_drop_ins_give_the_command_lines():
    units = {b.argument: b for b in guide.read() if b.kind == 'unit'}
    argv = guide.exec_start(units['sodos-knowmon'])
    assert argv == [
        '/opt/sodos/bin/sodos-knowmon',
        '--config-file',
        '/etc/sodos/sodos.conf',
    ]
    assert '--http-socket' in guide.exec_start(units['sodos-api'])


def test_a_marked_block_is_read_with_its_marker():
    (found,) = guide.parse(
        block(
            'run at=others -- why it\n   runs there',
            ['sodos-manage db sync \\', '    --flag', '# a comment'],
        )
    )
    assert (found.kind, found.at, found.note) == (
        'run',
        'others',
        'why it runs there',
    )
    assert guide.commands(found.text) == ['sodos-manage db sync --flag']


@pytest.mark.parametrize(
    ('text', 'error'),
    [
        (block('bake', ['x']), 'kind must be one of'),
        (block('run at=somewhere', ['openstack x']), 'at= must be one of'),
        (block('file', ['a = 1'], 'ini'), 'file needs a name'),
        (block('skip', ['useradd sodos']), 'skip must say'),
        (block('run extra', ['openstack x']), "unexpected 'extra'"),
        ('.. install-test: run\n\nText.\n', 'followed by a code-block'),
        (block('run', ['openstack x'], 'ini'), 'code-block of shell'),
        (block('run', ['systemctl restart x']), 'is not run by the test'),
        (block('run', ['apt-get install sodos']), 'is not run by the test'),
        (
            block('unit sodos-x', ['[Service]', 'ExecStart='], 'ini'),
            'sets no ExecStart',
        ),
        (
            '.. install-test: run\n\n.. code-block:: shell\n    x\n',
            'needs a blank line',
        ),
    ],
)
def test_a_malformed_marker_or_block_is_refused(text, error):
    with pytest.raises(guide.GuideError, match=error):
        guide.parse(text)


def test_an_example_name_the_test_bed_does_not_replace_is_found():
    (found,) = guide.parse(
        block('run', ['openstack endpoint create sodos http://lyon-1:8787/'])
    )
    assert guide.leftovers(found, SITES[1], SITES[0]) == ['lyon', ':8787']
