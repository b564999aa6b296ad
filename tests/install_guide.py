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

"""The install guide's tested blocks, and what a test bed puts in them.

doc/source/install.rst marks the code blocks a test runs with an RST
comment (invisible in the rendered page) just before the block::

    .. install-test: KIND [ARGUMENT] [append] [at=WHERE] [-- why]

KIND is ``run`` (shell commands), ``sql`` (statements for the database
server's root), ``file PATH`` (the block is the file's text; ``append``
adds it to the file), ``unit NAME`` (a systemd drop-in: the unit's
``ExecStart``) or ``skip`` (root-only steps the test does otherwise,
saying how after ``--``). WHERE is ``each`` (the default), ``first`` or
``others``: the sites the block runs at.

The guide's example site is paris-1 at 192.0.2.10. :func:`substitute`
puts a test-bed site in its place: hosts and ports, the site's name and
region, the folders (/etc/sodos, /var/lib/sodos, /opt/sodos/bin), the
database's and image's names, and no ``sudo -u sodos`` (the test runs
as one user). :func:`leftovers` finds what it would leave behind.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex

GUIDE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'doc',
    'source',
    'install.rst',
)
KINDS = ('run', 'sql', 'file', 'unit', 'skip')
WHERE = ('each', 'first', 'others')
LANGUAGES = {
    'run': ('shell',),
    'sql': ('sql',),
    'file': ('ini', 'yaml'),
    'unit': ('ini',),
    'skip': ('shell',),
}
# What the commands of ``run`` blocks may start with: the rest needs root
# or systemd, and belongs in a ``skip`` block.
PROGRAMS = (
    'openstack',
    'rabbitmqctl',
    'sodos-manage',
    'sodos-status',
    'systemctl enable --now',
)
MARKER = re.compile(r'^\.\. install-test:(.*)$')
CODE_BLOCK = re.compile(r'^\.\. code-block:: *(\S+) *$')
# The example site's names that a test bed must replace, and words that
# name something only a real host has.
EXAMPLE = re.compile(
    r'example\.org|192\.0\.2\.|paris|lyon|RegionOne|sudo|cirros'
    r'|(?<!\w)/(?:etc|opt|var)/|:7700\b|:7710\b|:8787\b'
)


class GuideError(Exception):
    """A marker or a marked block the test cannot use."""


@dataclasses.dataclass(frozen=True)
class Block:
    kind: str
    argument: str
    append: bool
    at: str
    note: str
    language: str
    text: str
    line: int

    def runs_at(self, index: int) -> bool:
        """Whether the block runs at the test bed's ``index``-th site."""
        return (
            self.at == 'each'
            or (self.at == 'first' and index == 0)
            or (self.at == 'others' and index > 0)
        )


@dataclasses.dataclass(frozen=True)
class Site:
    """What a test-bed site puts in place of the guide's paris-1."""

    name: str
    region: str
    auth_url: str
    nova_bus_url: str
    broker: str
    database_host: str
    database_name: str
    raft_address: str
    relay_port: int
    api_address: str
    etc_dir: str
    state_dir: str
    bin_dir: str
    image: str


def _marker(text: str, line: int) -> tuple[str, str, bool, str, str]:
    words, _, note = text.partition(' -- ')
    parts = words.split()
    if not parts or parts[0] not in KINDS:
        raise GuideError(
            'line %d: install-test kind must be one of %s, not %r'
            % (line, ', '.join(KINDS), words.strip())
        )
    kind, rest = parts[0], parts[1:]
    at = 'each'
    append = False
    argument = ''
    for part in rest:
        if part.startswith('at='):
            at = part[3:]
            if at not in WHERE:
                raise GuideError(
                    'line %d: at= must be one of %s, not %r'
                    % (line, ', '.join(WHERE), at)
                )
        elif part == 'append' and kind == 'file':
            append = True
        elif not argument and kind in ('file', 'unit'):
            argument = part
        else:
            raise GuideError('line %d: unexpected %r' % (line, part))
    if kind in ('file', 'unit') and not argument:
        raise GuideError('line %d: %s needs a name' % (line, kind))
    if kind == 'skip' and not note.strip():
        raise GuideError(
            'line %d: skip must say after -- what the test does instead' % line
        )
    return kind, argument, append, at, ' '.join(note.split())


def parse(text: str) -> list[Block]:
    """The marked blocks of an RST text, in document order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        found = MARKER.match(lines[i])
        if not found:
            i += 1
            continue
        line = i + 1
        marker = found.group(1)
        i += 1
        # A comment goes on in the indented lines below it.
        while i < len(lines) and lines[i].startswith('   '):
            marker += ' ' + lines[i].strip()
            i += 1
        kind, argument, append, at, note = _marker(marker, line)
        while i < len(lines) and not lines[i].strip():
            i += 1
        directive = CODE_BLOCK.match(lines[i]) if i < len(lines) else None
        if directive is None:
            raise GuideError(
                'line %d: an install-test marker must be followed by a '
                'code-block' % line
            )
        language = directive.group(1)
        if language not in LANGUAGES[kind]:
            raise GuideError(
                'line %d: a %s block is a code-block of %s, not %s'
                % (line, kind, ' or '.join(LANGUAGES[kind]), language)
            )
        i += 1
        body: list[str] = []
        while i < len(lines) and (
            not lines[i].strip() or lines[i].startswith(' ')
        ):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        if not body or body[0].strip():
            raise GuideError(
                'line %d: the code-block needs a blank line, then its '
                'text indented' % line
            )
        indent = min(
            len(b) - len(b.lstrip()) for b in body if b.strip()
        )  # fmt: skip
        code = '\n'.join(b[indent:] for b in body[1:]) + '\n'
        blocks.append(
            Block(kind, argument, append, at, note, language, code, line)
        )
        _check(blocks[-1])
    return blocks


def read(path: str = GUIDE) -> list[Block]:
    with open(path, encoding='utf-8') as f:
        return parse(f.read())


def commands(text: str) -> list[str]:
    """A shell block's commands: continued lines joined, comments out."""
    joined = text.replace('\\\n', ' ')
    found = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            found.append(shlex.join(words))
    return found


def exec_start(block: Block) -> list[str]:
    """The command line of a unit drop-in: its last ``ExecStart``."""
    starts = [
        line.split('=', 1)[1]
        for line in block.text.replace('\\\n', ' ').splitlines()
        if line.startswith('ExecStart=')
    ]
    if not starts or not starts[-1].strip():
        raise GuideError(
            'line %d: the drop-in of %s sets no ExecStart'
            % (block.line, block.argument)
        )
    return shlex.split(starts[-1])


def _check(block: Block) -> None:
    if block.kind == 'unit':
        exec_start(block)
    if block.kind != 'run':
        return
    for command in commands(block.text):
        plain = command.removeprefix('sudo -u sodos ')
        program = os.path.basename(plain.split()[0])
        if not (plain.startswith(PROGRAMS) or program.startswith(PROGRAMS)):
            raise GuideError(
                'line %d: %r is not run by the test (it runs %s); mark '
                'the block skip and say what the test does instead'
                % (block.line, command, ', '.join(PROGRAMS))
            )


def _pairs(block: Block, site: Site, first: Site) -> list[tuple[str, str]]:
    # The example site is the first one where a joining site names it.
    peer = first if block.at == 'others' else site
    api = 'http://%s/' % site.api_address
    user = site.database_name
    return [
        ('sudo -u sodos ', ''),
        ('https://keystone.paris.example.org/v3', site.auth_url),
        ('rabbit://nova:SECRET@rabbit.paris.example.org:5672/',
         site.nova_bus_url),
        ('rabbit.paris.example.org:5672', site.broker),
        ('sodos:SECRET@db.paris.example.org/sodos',
         '%s:SECRET@%s/%s' % (user, site.database_host, user)),
        ('CREATE DATABASE sodos ', 'CREATE DATABASE %s ' % user),
        ("'sodos'@'%'", "'%s'@'%%'" % user),
        ('ON sodos.*', 'ON %s.*' % user),
        ('https://sodos.paris.example.org/', api),
        ('http://192.0.2.10:8787/', api),
        ('127.0.0.1:8787', site.api_address),
        ('192.0.2.10:7700', peer.raft_address),
        ('bind_port = 7710', 'bind_port = %d' % site.relay_port),
        ('192.0.2.10', site.raft_address.rsplit(':', 1)[0]),
        ('paris-1', site.name),
        ('RegionOne', site.region),
        ('/etc/sodos', site.etc_dir),
        ('/var/lib/sodos', site.state_dir),
        ('/opt/sodos/bin', site.bin_dir),
        ('image: cirros', 'image: %s' % site.image),
    ]  # fmt: skip


def substitute(block: Block, site: Site, first: Site) -> str:
    """The block's text as run at ``site`` (``first`` started it)."""
    text = block.text
    for old, new in _pairs(block, site, first):
        text = text.replace(old, new)
    return text


def leftovers(block: Block, site: Site, first: Site) -> list[str]:
    """What of the example site :func:`substitute` leaves in the block."""
    return EXAMPLE.findall(substitute(block, site, first))
