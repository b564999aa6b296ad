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

"""``/healthcheck`` of a site process: oslo.middleware's, over sodos's
checks (:mod:`sodos.observe.checks`).

Answers 200 when every check passes and 503 otherwise, as oslo.middleware
does for every OpenStack service: what load balancers and systemd units
(``curl -f``) act on. ``[healthcheck]`` options apply: ``backends`` adds
oslo.middleware's own (``disable_by_file`` takes a process out of a load
balancer by hand), ``allowed_source_ranges`` limits who may ask.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg
from oslo_middleware import healthcheck
from stevedore import extension

from sodos.observe import checks

if TYPE_CHECKING:
    from sodos.knowmon.rpcapi import KnowMonClient


def not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """What a request the health check leaves alone gets (one from
    outside ``[healthcheck]allowed_source_ranges``)."""
    start_response('404 Not Found', [('Content-Type', 'text/plain')])
    return [b'not found\n']


class SiteHealthcheck(healthcheck.Healthcheck):
    """The health of this process's view of the site.

    ``knowmon`` is the process's KnowMon client; ``database`` adds the
    history database's check (processes that read or write it: KnowMon,
    the API). ``detailed`` (None: ``[healthcheck]detailed``) adds each
    check's details and the process's threads to the answer.
    """

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        knowmon: KnowMonClient,
        database: bool,
        detailed: bool | None = None,
    ) -> None:
        super().__init__(not_found, conf)
        local = {checks.KNOWMON_KEY: knowmon}
        ours: list[tuple[str, Any]] = [
            ('sodos_kb', checks.KnowledgeBaseCheck(conf, local))
        ]
        if database:
            ours.append(
                ('sodos_history_db', checks.HistoryDatabaseCheck(conf, local))
            )
        # oslo.middleware loads its backends by entry point name and
        # hands them the configuration only; sodos's need this process's
        # KnowMon client, so they join the loaded ones here.
        self._backends = [  # type: ignore[assignment]
            extension.Extension(name, _entry_point(name, obj), type(obj), obj)
            for name, obj in ours
        ] + list(self._backends)
        if detailed is not None:
            self._show_details = detailed


def _entry_point(name: str, check: Any) -> metadata.EntryPoint:
    """What the check's entry point would be, had stevedore loaded it."""
    cls = type(check)
    return metadata.EntryPoint(
        name,
        '%s:%s' % (cls.__module__, cls.__qualname__),
        healthcheck.Healthcheck.NAMESPACE,
    )
