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

"""Reading a process's ``/metrics`` as Prometheus would: for the
benchmarks (how many series one site exports) and the tests."""

from __future__ import annotations

import urllib.request

from prometheus_client import parser


def fetch(url: str, timeout: float = 10.0) -> str:
    """The exposition text at ``url`` (a listener's ``/metrics``)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        text: str = response.read().decode('utf-8')
    return text


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every series of an exposition: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parser.text_string_to_metric_families(text)
        for sample in family.samples
    }


def count_series(text: str) -> int:
    """How many series an exposition holds (what Prometheus stores per
    scrape: a histogram counts a series per bucket, its sum and count)."""
    return len(samples(text))


def value(text: str, name: str, **labels: str) -> float | None:
    """The value of the series ``name`` with exactly ``labels``."""
    return samples(text).get((name, tuple(sorted(labels.items()))))
