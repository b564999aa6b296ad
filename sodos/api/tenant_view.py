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

"""What a tenant is told of the federation behind its appliances.

The planner and Exec write their reasons for operators: they name sites
by their internal names and sites' owners by their domain ids (a
sharing policy that refused a member). A caller who is not an admin
sees its own project's things through :class:`View`:

* sites as an opaque label, unless ``[api]expose_site_names_to_tenants``
  is set or the caller passes ``sodos:site:names``. The label is a keyed
  hash of the site's name, keyed by the federation's id (which the API
  never shows a tenant): every site's API gives the same label, it does
  not change over time, and it cannot be turned back into the name by
  guessing names. A label is accepted back where a tenant names a site.
* sharing reasons without the owners they name: another organisation's
  id, its policy and what its guests use are not the tenant's business.

Rewriting happens here, at the API's edge; the KB keeps the operators'
words.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import webob

from sodos.api import util
from sodos.api.policies import alert as alert_policies
from sodos.api.policies import site as site_policies

LABEL_PREFIX = 'site-'
_LABEL = re.compile(r'^site-[0-9a-f]{10}\Z')
# A site name inside a sentence: not part of a longer name ("a" in
# "a-1"); a full stop after it still ends the sentence.
_BEFORE = r'(?<![A-Za-z0-9_.\-])'
_AFTER = r'(?![A-Za-z0-9_\-])(?!\.[A-Za-z0-9_\-])'
# The sharing filter's reasons (sodos.analyseplan.sharing).
_OWNER_REFUSES = re.compile(
    r'owner [^\s,;]+ does not admit (?:owner [^\s,;]+|projects of no owner)'
)
_OWNER_LENDS = re.compile(r'owner [^\s,;]+ lends [^,;]*, guests use [^\s,;]+')
# A reclaim's reason (sodos.analyseplan.reclaim).
_OWNER_RECLAIMS = re.compile(
    r'owner [^\s,;]+ needs room for project [^\s,;)]+'
)


def label(federation_id: str, site: str) -> str:
    """The opaque label of ``site`` in the federation ``federation_id``."""
    digest = hmac.new(
        federation_id.encode(), site.encode(), hashlib.sha256
    ).hexdigest()
    return LABEL_PREFIX + digest[:10]


def without_owners(text: str) -> str:
    """``text`` with the sharing reasons that name sites' owners said
    without them."""
    text = _OWNER_REFUSES.sub("the site's owner does not admit it", text)
    text = _OWNER_RECLAIMS.sub("the site's owner needs the room", text)
    return _OWNER_LENDS.sub("the site's owner lends no more room", text)


class View:
    """What one request's caller may be shown."""

    def __init__(self, req: webob.Request) -> None:
        self._req = req
        conf = util.services(req).conf
        self.admin = util.allowed(req, alert_policies.ALL_PROJECTS)
        self.names = bool(
            conf.api.expose_site_names_to_tenants
        ) or util.allowed(req, site_policies.NAMES)
        self._labels: dict[str, str] | None = None
        self._federation: str | None = None
        self._pattern: re.Pattern[str] | None = None

    @property
    def labels(self) -> dict[str, str]:
        """Site name -> label, of every site the KB knows (those that
        left too: old reasons name them)."""
        if self._labels is None:
            sites = util.read(self._req, 'sites') or {}
            self._labels = {name: label(self._key(), name) for name in sites}
        return self._labels

    def _key(self) -> str:
        if self._federation is None:
            found = util.read(self._req, 'federation') or {}
            self._federation = str(found.get('id') or '')
        return self._federation

    def site(self, name: str) -> str:
        """How the caller sees the site ``name`` ('' stays '')."""
        if self.names or not name:
            return name
        return self.labels.get(name) or label(self._key(), name)

    def site_name(self, ref: str) -> str:
        """The site a caller's ``ref`` (a name, or a label it was shown)
        means; an unknown label stays as given, to be refused as an
        unknown site."""
        if not _LABEL.match(ref):
            return ref
        for name, found in self.labels.items():
            if found == ref:
                return name
        return ref

    def text(self, text: str) -> str:
        """A reason or message as the caller may read it."""
        if not self.admin:
            text = without_owners(text)
        if self.names or not text:
            return text
        pattern = self._sites_pattern()
        if pattern is None:
            return text
        return pattern.sub(lambda m: self.labels[m.group(0)], text)

    def _sites_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.labels:
            # Longest first: "paris-2" before "paris".
            names = sorted(self.labels, key=lambda n: (-len(n), n))
            self._pattern = re.compile(
                _BEFORE + '(?:%s)' % '|'.join(map(re.escape, names)) + _AFTER
            )
        return self._pattern

    def tree(self, value: Any) -> Any:
        """``value`` (JSON) with every string and key read by
        :meth:`text`."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.tree(v) for v in value]
        return value

    def shows_everything(self) -> bool:
        return self.admin and self.names
