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

"""Sites in network namespaces of their own, and partitions between them.

Each site runs in a namespace with one veth link to a bridge in the
root namespace, and an address of its own on the bridge's /24 (the
process running the suite, and its client member, sit on the bridge's
address). A link between two sites is cut by a ``blackhole`` route to
each in the other's namespace: what one sends the other is dropped,
connections open or new. No iptables or ``tc`` is needed, only
``ip`` (iproute2) and root.

Each site's Raft and control ports sit behind a proxy
(:mod:`tests.chaos.proxy`) in the root namespace, at an address of the
site's own on the bridge (*N* + 100): the site advertises it and listens
at its namespace's address, so that everything between two sites goes
through the proxy in front of the one it goes to. The proxies add
latency and break connections where this kernel has no ``tc netem``,
and swallow what crosses a cut link too (a blackhole route in the
sender's namespace does not stop the proxy's side of a connection).
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
from typing import Any

from sodos.sim import federation
from sodos.sim import ports
from tests.chaos import proxy

# Sites listen on one port each, in namespaces of their own; the control
# channel on the next one.
SITE_PORT = 7000
PROXIED_PORTS = (SITE_PORT, SITE_PORT + 1)
# Site N's proxy listens at address N + ALIAS on the bridge.
ALIAS = 100


class Unavailable(Exception):
    """Network namespaces cannot be made here (not root, no iproute2)."""


def ip(*args: str, ns: str | None = None) -> None:
    command = ['ip', *args]
    if ns is not None:
        command = ['ip', 'netns', 'exec', ns, *command]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(
            '%s failed: %s' % (' '.join(command), out.stderr.strip())
        )


def available() -> str | None:
    """Why namespaces cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return 'network namespaces need root'
    if shutil.which('ip') is None:
        return 'network namespaces need iproute2 (the ip command)'
    return None


class Network:
    """A bridge and one namespace per site; names unique to this run, so
    that two runs on one machine do not meet."""

    def __init__(self) -> None:
        why = available()
        if why:
            raise Unavailable(why)
        rng = random.SystemRandom()
        self.tag = 'sc%04x' % rng.randrange(1 << 16)
        self.bridge = self.tag + 'br'
        self.prefix = self._free_subnet(rng)
        self.host = self.prefix + '254'
        # site number -> namespace
        self.namespaces: dict[int, str] = {}
        # Cut links, as sorted pairs of site numbers.
        self.cut: set[tuple[int, int]] = set()
        self.aliases: set[str] = set()
        ip('link', 'add', self.bridge, 'type', 'bridge')
        ip('addr', 'add', self.host + '/24', 'dev', self.bridge)
        ip('link', 'set', self.bridge, 'up')

    @staticmethod
    def _free_subnet(rng: random.SystemRandom) -> str:
        used = subprocess.run(
            ['ip', '-4', 'route'], capture_output=True, text=True
        ).stdout
        for _ in range(100):
            prefix = '10.%d.%d.' % (
                rng.randrange(200, 250),
                rng.randrange(256),
            )
            if prefix not in used:
                return prefix
        raise Unavailable('no free 10.x.y.0/24 for the sites')

    def add(self, number: int) -> str:
        """Site ``number``'s namespace, linked to the bridge; its host."""
        ns = '%s-%d' % (self.tag, number)
        outside, inside = (
            '%sh%d' % (self.tag, number),
            '%sn%d'
            % (
                self.tag,
                number,
            ),
        )
        ip('netns', 'add', ns)
        self.namespaces[number] = ns
        ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside)
        ip('link', 'set', inside, 'netns', ns)
        ip('link', 'set', outside, 'master', self.bridge)
        ip('link', 'set', outside, 'up')
        ip('link', 'set', 'lo', 'up', ns=ns)
        ip('addr', 'add', self.address(number) + '/24', 'dev', inside, ns=ns)
        ip('link', 'set', inside, 'up', ns=ns)
        return self.address(number)

    def address(self, number: int) -> str:
        return self.prefix + str(number)

    def alias(self, number: int) -> str:
        """Another address for site ``number`` on the bridge, in the root
        namespace (where its proxy listens), made on first use."""
        if not 0 < number < 254 - ALIAS:
            raise ValueError('site %d has no room for an alias' % number)
        address = self.prefix + str(number + ALIAS)
        if address not in self.aliases:
            ip('addr', 'add', address + '/32', 'dev', self.bridge)
            self.aliases.add(address)
        return address

    def number_of(self, host: str) -> int | None:
        """The site whose namespace has address ``host``, if any."""
        if not host.startswith(self.prefix):
            return None
        number = int(host[len(self.prefix) :])
        return number if number in self.namespaces else None

    def cut_link(self, a: int, b: int) -> None:
        pair = (min(a, b), max(a, b))
        if pair in self.cut:
            return
        ip('route', 'add', 'blackhole', self.address(b), ns=self.namespaces[a])
        ip('route', 'add', 'blackhole', self.address(a), ns=self.namespaces[b])
        self.cut.add(pair)

    def heal_link(self, a: int, b: int) -> None:
        pair = (min(a, b), max(a, b))
        if pair not in self.cut:
            return
        ip('route', 'del', 'blackhole', self.address(b), ns=self.namespaces[a])
        ip('route', 'del', 'blackhole', self.address(a), ns=self.namespaces[b])
        self.cut.discard(pair)

    def partition(self, groups: list[list[int]]) -> list[tuple[int, int]]:
        """Cut every link between two sites of different ``groups``; the
        links cut (to heal)."""
        cut = []
        for g1, g2 in itertools.combinations(groups, 2):
            for a in g1:
                for b in g2:
                    self.cut_link(a, b)
                    cut.append((a, b))
        return cut

    def heal_all(self) -> None:
        for a, b in sorted(self.cut):
            self.heal_link(a, b)

    def close(self) -> None:
        for number, ns in self.namespaces.items():
            # The pair goes with its outside end at once; a namespace's
            # own links go only when the kernel gets round to cleaning it
            # up, which a loaded machine puts off.
            subprocess.run(
                ['ip', 'link', 'del', '%sh%d' % (self.tag, number)],
                capture_output=True,
            )
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
        subprocess.run(['ip', 'link', 'del', self.bridge], capture_output=True)


class NetnsFederation(federation.LocalFederation):
    """A LocalFederation whose site N runs in namespace N, at address
    PREFIX.N:7000; the client member listens on the bridge's address."""

    def __init__(self, root: str, **kwargs: Any) -> None:
        self.network = Network()
        self.links = proxy.Links()
        self.proxies = proxy.Proxies(self.links, self._site_at)
        try:
            super().__init__(root, **kwargs)
        except Exception:
            self.proxies.close()
            self.network.close()
            raise

    def number(self, name: str) -> int:
        return int(name.rsplit('-', 1)[1])

    def _site_at(self, host: str) -> str | None:
        number = self.network.number_of(host)
        return None if number is None else 'site-%d' % number

    def new_address(self, name: str) -> str:
        if name.startswith('site-'):
            number = self.number(name)
            host, alias = self.network.add(number), self.network.alias(number)
            for proxied in PROXIED_PORTS:
                self.proxies.add((alias, proxied), (host, proxied), name)
            return '%s:%d' % (alias, SITE_PORT)
        port = ports.free_address().rsplit(':', 1)[1]
        return '%s:%s' % (self.network.host, port)

    def tls_options(
        self, name: str, address: str | None = None
    ) -> dict[str, Any]:
        options = super().tls_options(name, address)
        if name.startswith('site-'):
            # A site advertises its proxy's address and listens at its
            # own: the other [raft] option that differs per site.
            options['bind_host'] = self.network.address(self.number(name))
        return options

    def degrade(self, name: str, **faults: Any) -> None:
        """Give every link of site ``name`` ``faults`` (proxy.Faults
        fields, delay=0.0 to heal); cuts are left as they are."""
        for other in self.sites:
            if other != name:
                self.links.update(name, other, **faults)

    def site_command(self, site: federation.LocalSite) -> list[str]:
        # `ip netns exec` execs the command: the pid stays the site's, for
        # its signals.
        ns = self.network.namespaces[self.number(site.name)]
        return ['ip', 'netns', 'exec', ns, *self.command]

    def cut(self, groups: list[list[str]]) -> list[tuple[str, str]]:
        """Partition the sites into ``groups`` (of names); the links cut,
        as pairs of names."""
        numbers = [[self.number(n) for n in group] for group in groups]
        links = [
            ('site-%d' % a, 'site-%d' % b)
            for a, b in self.network.partition(numbers)
        ]
        for a, b in links:
            self.links.update(a, b, cut=True)
        return links

    def heal(self, links: list[tuple[str, str]]) -> None:
        for a, b in links:
            self.links.update(a, b, cut=False)
            self.network.heal_link(self.number(a), self.number(b))

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self.proxies.close()
            self.network.close()
