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

"""What code paths observe as they run: the Prometheus durations and
counters that no state read at scrape time could give.

Everything a scrape can read from the Knowledge Base or the Raft member
(terms, indexes, sites, alerts, actions) is read then, by
:mod:`sodos.observe.collector`; only what happens between two scrapes
is counted here. They live in the process's default registry, as
Prometheus instruments do, whether or not the process serves them.
"""

from __future__ import annotations

import prometheus_client

# From a tenth of a second (a quick cycle) to two minutes (a planner
# cycle at a hundred sites, a failure noticed after long timeouts).
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

ROLE_CYCLE_SECONDS = prometheus_client.Histogram(
    'sodos_role_cycle_duration_seconds',
    'Seconds one decision cycle of a role took (AnalysePlan: one '
    'placement cycle).',
    ['role'],
    buckets=DURATION_BUCKETS,
)
FAILURE_DETECTION_SECONDS = prometheus_client.Histogram(
    'sodos_failure_detection_duration_seconds',
    'Seconds from the last sign of life of a site to its down transition '
    'committed by the leader.',
    buckets=DURATION_BUCKETS,
)
RECOVERY_SECONDS = prometheus_client.Histogram(
    'sodos_recovery_duration_seconds',
    'Seconds from a site marked down to the plan that re-places its '
    'appliance members committed.',
    buckets=DURATION_BUCKETS,
)
IMAGE_COPY_BYTES = prometheus_client.Counter(
    'sodos_image_copy_bytes',
    'Bytes of images received from another site and checked by this '
    "site's Exec.",
)
