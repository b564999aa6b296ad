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

"""The operator documentation keeps up with the code.

The configuration and policy references are generated from the code by
Sphinx directives (``show-options``, ``show-policy``); these tests check
that the pages use them over namespaces that hold every option group and
every rule sodos has, so that a new one cannot be left out. They read
the options and rules the way the directives do (the oslo generators'
listing functions), without Sphinx. The sodos-manage reference is written
by hand; a new command, or a new option of one, fails here until it is
documented.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import pkgutil
import re
import tomllib

from oslo_config import generator as config_generator
from oslo_policy import generator as policy_generator

from sodos import conf as sodos_conf
from sodos.api import policies
from sodos.cmd import manage
from sodos.cmd import manage_moved
from sodos.conf import opts

DOC = pathlib.Path(__file__).parents[2] / 'doc' / 'source'
MANAGE_PAGE = DOC / 'admin' / 'sodos-manage.rst'


def _directive_blocks(path: pathlib.Path, name: str) -> list[list[str]]:
    """The indented lines after each ``.. NAME::`` of an rST file."""
    blocks: list[list[str]] = []
    lines = path.read_text(encoding='utf-8').splitlines()
    for i, line in enumerate(lines):
        if line.strip() != '.. %s::' % name:
            continue
        block = []
        for following in lines[i + 1 :]:
            if following and not following[0].isspace():
                break
            block.append(following.strip())
        blocks.append([b for b in block if b])
    return blocks


def _reference_namespaces() -> list[str]:
    blocks = _directive_blocks(DOC / 'configuration.rst', 'show-options')
    assert len(blocks) == 1, 'configuration.rst: one show-options expected'
    assert not any(b.startswith(':') for b in blocks[0]), (
        'show-options must name namespaces, not read a file'
    )
    return blocks[0]


def _group_name(group: object) -> str:
    return getattr(group, 'name', group) or 'DEFAULT'  # type: ignore


def test_configuration_reference_shows_the_sodos_namespace():
    assert 'sodos' in _reference_namespaces()


def test_every_option_group_and_option_is_in_the_reference():
    # What show-options renders: every (group, options) pair of every
    # namespace it names, as oslo-config-generator lists them.
    shown = config_generator._list_opts(_reference_namespaces())
    groups = {_group_name(g) for _, pairs in shown for g, _ in pairs}
    options = {
        (_group_name(g), o.dest)
        for _, pairs in shown
        for g, group in pairs
        for o in group
    }
    listed = opts.list_opts()
    assert listed
    missing = {_group_name(g) for g, _ in listed} - groups
    assert not missing, 'groups not in the reference: %s' % sorted(missing)
    missing = {
        (_group_name(g), o.dest) for g, group in listed for o in group
    } - options
    assert not missing, 'options not in the reference: %s' % sorted(missing)


def test_every_option_module_is_listed():
    # A group module left out of sodos.conf.MODULES is neither
    # registered nor documented.
    skip = {'base', 'opts'}
    found = {
        info.name
        for info in pkgutil.iter_modules(sodos_conf.__path__)
        if info.name not in skip
    }
    listed = {m.__name__.rsplit('.', 1)[1] for m in sodos_conf.MODULES}
    for name in found - listed:
        module = importlib.import_module('sodos.conf.' + name)
        assert not hasattr(module, 'list_opts'), (
            'sodos.conf.%s has options but is not in sodos.conf.MODULES' % name
        )


def test_sample_config_page_includes_the_generated_sample():
    text = (DOC / 'sample-config.rst').read_text(encoding='utf-8')
    assert '.. literalinclude:: _static/sodos.conf.sample' in text
    conf_py = (DOC / 'conf.py').read_text(encoding='utf-8')
    assert "sample_config_basename = '_static/sodos'" in conf_py


def test_every_policy_rule_is_in_the_policy_reference():
    blocks = _directive_blocks(DOC / 'policy.rst', 'show-policy')
    assert len(blocks) == 1
    (option,) = blocks[0]
    config_file = (DOC / option.split(':config-file:', 1)[1].strip()).resolve()
    namespaces = re.findall(
        r'^namespace\s*=\s*(\S+)', config_file.read_text(), re.M
    )
    assert 'sodos' in namespaces
    # What show-policy renders: every rule of these namespaces.
    shown = {
        rule.name
        for rules in policy_generator.get_policies_dict(namespaces).values()
        for rule in rules
    }
    rules = [rule.name for rule in policies.list_rules()]
    assert rules
    missing = [name for name in rules if name not in shown]
    assert not missing, 'rules not in the reference: %s' % missing


def _manage_commands() -> dict[str, list[str]]:
    """Every 'sodos-manage ... ACTION' leaf command -> its option strings."""
    parser = argparse.ArgumentParser(prog='sodos-manage')
    manage._add_parsers(parser.add_subparsers(dest='category'))
    found: dict[str, list[str]] = {}
    _walk(parser, 'sodos-manage', found)
    return found


def _walk(
    parser: argparse.ArgumentParser, name: str, found: dict[str, list[str]]
) -> None:
    subcommands = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    if not subcommands:
        found[name] = [
            flag
            for a in parser._actions
            for flag in a.option_strings
            if flag not in ('-h', '--help')
        ]
        return
    for word, sub in subcommands[0].choices.items():
        _walk(sub, '%s %s' % (name, word), found)


def _sections(path: pathlib.Path) -> dict[str, str]:
    """Section title -> its text, for the titles underlined with '-'."""
    lines = path.read_text(encoding='utf-8').splitlines()
    sections: dict[str, str] = {}
    title = None
    for i, line in enumerate(lines):
        below = lines[i + 1] if i + 1 < len(lines) else ''
        if line and re.fullmatch(r'-{%d,}' % len(line), below):
            title = line.strip()
            sections[title] = ''
        elif title is not None:
            sections[title] += line + '\n'
    return sections


def _section_of(command: str, sections: dict[str, str]) -> str | None:
    """The section titled with the command, or with the longest prefix
    of its words (one section may cover several actions)."""
    words = command.split()
    for end in range(len(words), 1, -1):
        title = ' '.join(words[:end])
        if title in sections:
            return title
    return None


def test_manage_commands_are_found():
    commands = _manage_commands()
    # The parser walk itself works: commands of every module are seen.
    assert 'sodos-manage federation join' in commands
    assert '--peer' in commands['sodos-manage federation join']
    assert 'sodos-manage plan whatif' in commands
    assert 'sodos-manage db sync' in commands


def test_every_manage_command_and_option_is_documented():
    # Each command has a section of the reference (titled with it, or
    # with a prefix of it) with a synopsis line starting with the command,
    # and the section names each of its options.
    sections = _sections(MANAGE_PAGE)
    undocumented = []
    for command, flags in sorted(_manage_commands().items()):
        title = _section_of(command, sections)
        synopsis = r'^\s*%s( |$)' % re.escape(command)
        if title is None or not re.search(synopsis, sections[title], re.M):
            undocumented.append(command)
            continue
        undocumented.extend(
            '%s %s' % (command, flag)
            for flag in flags
            if not re.search(r'%s\b' % re.escape(flag), sections[title])
        )
    assert not undocumented, 'add these to %s: %s' % (
        MANAGE_PAGE.name,
        ', '.join(undocumented),
    )


def test_every_removed_manage_command_is_in_the_table():
    # Each removed command has a row of "Removed commands" naming all its
    # words (a row may cover several: "domain|project|user|group").
    section = _sections(MANAGE_PAGE)['Removed commands']
    rows = [
        line for line in section.splitlines() if '- ``sodos-manage ' in line
    ]
    missing = [
        ' '.join(words)
        for words in manage_moved.MOVED
        if not any(
            all(re.search(r'(?<![\w-])%s(?![\w-])' % w, row) for w in words)
            for row in rows
        )
    ]
    assert not missing, 'add these to %s: %s' % (MANAGE_PAGE.name, missing)


def test_the_admin_guide_links_the_manage_reference():
    index = (DOC / 'admin' / 'index.rst').read_text(encoding='utf-8')
    assert re.search(r'^\s+sodos-manage$', index, re.M)


def test_the_contributor_picture_of_the_layers_is_the_contract():
    with open(DOC.parents[1] / 'pyproject.toml', 'rb') as f:
        contracts = tomllib.load(f)['tool']['importlinter']['contracts']
    layers = next(c for c in contracts if c['type'] == 'layers')['layers']
    page = (DOC / 'contributor' / 'architecture.rst').read_text()
    block = page.split('.. code-block:: text\n\n', 1)[1].split('\n\n')[0]
    drawn = [line.strip().split('   ')[0] for line in block.splitlines()]
    assert drawn == layers
