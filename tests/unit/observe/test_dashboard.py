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

"""The Grafana dashboard shipped in etc/ asks only for what the site
processes export."""

import json
import pathlib
import re

from prometheus_client import generate_latest
from prometheus_client import registry as prom_registry

from sodos.observe import listener
from sodos.observe import scrape
from tests.unit.observe.test_collector import KB
from tests.unit.observe.test_collector import Fake

DASHBOARD = (
    pathlib.Path(__file__).resolve().parents[3]
    / 'etc'
    / 'grafana'
    / 'sodos-dashboard.json'
)
# A metric name in PromQL: not a function, keyword or label (those are
# followed by "(" or sit inside braces and "by (...)").
_NAME = re.compile(r'\b(sodos_[a-z0-9_]+)\b')


def queries():
    board = json.loads(DASHBOARD.read_text())
    return [
        target['expr']
        for panel in board['panels']
        for target in panel.get('targets', [])
    ]


SUFFIXES = {
    'histogram': ('_bucket', '_count', '_sum'),
    'counter': ('_total',),
    'gauge': ('',),
}


def exported(conf):
    """Every series name one process exports, the KB's included, and
    those of families with labels nothing observed yet (the cycle
    duration of a role this process does not run)."""
    reg = listener.site_registry(
        conf, Fake({'term': 1, 'role': 'voter', 'leader_site': 'a'}, KB)
    )
    assert isinstance(reg, prom_registry.CollectorRegistry)
    text = generate_latest(reg).decode()
    names = {name for name, _ in scrape.samples(text)}
    for family in reg.collect():
        for suffix in SUFFIXES.get(family.type, ()):
            names.add(family.name + suffix)
    return names


def test_the_dashboard_has_queries():
    assert len(queries()) >= 16


def test_every_query_names_a_metric_the_code_exports(conf):
    names = exported(conf)
    for expr in queries():
        used = set(_NAME.findall(expr))
        assert used, 'query names no sodos metric: %s' % expr
        unknown = used - names
        assert not unknown, 'not exported: %s in %s' % (unknown, expr)
