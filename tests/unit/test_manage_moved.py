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

"""The sodos-manage commands that moved to ``openstack sodos`` point
there, and point at commands that exist."""

import argparse
import pathlib
import tomllib

import pytest

from sodos.cmd import manage
from sodos.cmd import manage_moved

ROOT = pathlib.Path(__file__).parents[2]


def osc_commands():
    """'appliance create', ... : every ``openstack sodos`` command."""
    with open(ROOT / 'pyproject.toml', 'rb') as f:
        project = tomllib.load(f)['project']
    names = project['entry-points']['openstack.sodos.v1']
    return {n.removeprefix('sodos_').replace('_', ' ') for n in names}


def parser_tree():
    parser = argparse.ArgumentParser(prog='sodos-manage')
    subparsers = parser.add_subparsers(dest='category')
    manage._add_parsers(subparsers)
    return subparsers.choices


def run(capsys, *args):
    # No readable config file: the pointer needs none.
    code = manage.main(['--config-file', '/nonexistent/sodos.conf', *args])
    return code, capsys.readouterr()


@pytest.mark.parametrize('words', sorted(manage_moved.MOVED))
def test_a_removed_command_names_its_replacement(capsys, words):
    code, out = run(capsys, *words, 'some-name', '--format', 'json')
    assert code == 2
    assert out.out == ''
    first = manage_moved.MOVED[words][0]
    assert out.err.startswith(
        'sodos-manage: error: `sodos-manage %s` was removed' % ' '.join(words)
    )
    assert '`openstack sodos %s`' % first in out.err
    assert len(out.err.splitlines()) == 1
    assert 'Traceback' not in out.err


@pytest.mark.parametrize(
    'args, uses',
    [
        (('appliance',), ['appliance create', 'appliance delete']),
        (('appliance', '--help'), ['appliance list', 'appliance show']),
        (('identity', 'user', 'frobnicate'), ['identity user set']),
        (('--debug', 'identity', 'membership'), ['identity group add user']),
    ],
)
def test_a_removed_group_names_every_replacement(capsys, args, uses):
    code, out = run(capsys, *args)
    assert code == 2
    for use in uses:
        assert '`openstack sodos %s`' % use in out.err


@pytest.mark.parametrize(
    'argv',
    [
        ['identity', 'keys', 'status'],
        ['--config-file', 'x.conf', 'site', 'drain', 'appliance'],
        ['plan', 'whatif', '--fail-site', 'identity'],
        ['policy', 'set', 'paused', 'true'],
        ['federation', 'status'],
        ['--help'],
        [],
    ],
)
def test_the_commands_kept_are_left_alone(argv):
    assert manage_moved.message(argv, manage.CATEGORIES) is None


def test_every_replacement_is_an_openstack_sodos_command():
    known = osc_commands()
    assert 'appliance create' in known
    missing = {
        target
        for targets in manage_moved.MOVED.values()
        for target in targets
        if target not in known
    }
    assert not missing


def test_the_removed_commands_are_gone_from_the_parser():
    tree = parser_tree()
    assert set(manage.CATEGORIES) == set(tree)
    assert 'appliance' not in tree
    objects = next(
        a
        for a in tree['identity']._actions
        if isinstance(a, argparse._SubParsersAction)
    )
    assert set(objects.choices) == {'keys'}
