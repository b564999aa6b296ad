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

"""A local site's configuration: sections of options, merged and
written as an oslo.config file."""

from __future__ import annotations

from typing import Any

Sections = dict[str, dict[str, Any]]

# Timeouts for a LAN (here: loopback), as doc/configuration.rst recommends.
LAN_SETTINGS: dict[str, dict[str, Any]] = {
    'raft': {
        'election_timeout_min': 0.4,
        'election_timeout_max': 1.4,
        'heartbeat_period': 0.1,
        'connection_retry_time': 1.0,
        'leader_fallback_timeout': 5.0,
    },
    'knowmon': {
        'heartbeat_interval': 0.5,
        'site_down_timeout': 1.5,
        'loop_interval': 0.5,
    },
}


def merged(*sources: Sections) -> Sections:
    """One set of sections from ``sources``, a later option winning; no
    source is changed."""
    out: Sections = {}
    for source in sources:
        for group, options in source.items():
            out.setdefault(group, {}).update(options)
    return out


def render(sections: dict[str, dict[str, Any]]) -> str:
    """A config file of ``sections``: None left out, lists joined with
    commas, booleans as true/false."""
    lines = []
    for group, options in sections.items():
        lines.append('[%s]' % group)
        for name, value in options.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            elif isinstance(value, bool):
                value = 'true' if value else 'false'
            lines.append('%s = %s' % (name, value))
        lines.append('')
    return '\n'.join(lines)
