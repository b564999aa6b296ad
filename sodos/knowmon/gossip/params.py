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


"""The protocol's knobs and the quantities that scale with cluster size."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Params:
    # Seconds between two probes this member starts.
    probe_interval: float = 0.3
    # Seconds a direct probe waits for its ack before asking others, and
    # a helper waits for the target's before it nacks: two of these and
    # the round trips fit in an interval, so the nacks come back in time.
    probe_timeout: float = 0.1
    # Members asked to probe a target that did not answer directly.
    indirect_checks: int = 3
    # The suspicion timeout is this many probe intervals times log10(n).
    suspicion_mult: int = 4
    # A suspicion nobody else confirms lasts up to this times the minimum.
    suspicion_max_mult: int = 6
    # An update is piggybacked this times log10(n + 1) times, rounded up.
    retransmit_mult: int = 4
    # Updates carried by one message at most (bounds its size).
    max_piggyback: int = 8
    # Seconds between two pushes of pending updates, each to this many
    # members at random (memberlist's defaults); nothing is sent when
    # nothing is pending.
    gossip_interval: float = 0.2
    gossip_nodes: int = 3
    # A member's own health score stays under this; its timeouts are
    # scaled by the score + 1 (see .awareness).
    awareness_max: int = 8

    def __post_init__(self) -> None:
        if not 0 < self.probe_timeout < self.probe_interval:
            raise ValueError(
                'the probe timeout must be positive and shorter than the '
                'probe interval'
            )
        if self.gossip_interval <= 0:
            raise ValueError('the gossip interval must be positive')
        for name in (
            'indirect_checks',
            'suspicion_mult',
            'suspicion_max_mult',
            'retransmit_mult',
            'max_piggyback',
            'awareness_max',
            'gossip_nodes',
        ):
            if getattr(self, name) < 1:
                raise ValueError('%s must be at least 1' % name)


def with_interval(probe_interval: float) -> Params:
    """The default knobs, with the probe timeout scaled to another probe
    interval as the defaults scale it (a third of it)."""
    ratio = Params.probe_timeout / Params.probe_interval
    return Params(
        probe_interval=probe_interval,
        probe_timeout=round(probe_interval * ratio, 3),
    )


def _scale(n: int) -> float:
    # log10 of the cluster size, never under 1: small clusters keep the
    # multiplier as their floor rather than a timeout near zero.
    return max(1.0, math.log10(max(1, n)))


def suspicion_min(params: Params, n: int) -> float:
    """Seconds a suspicion lasts once enough others confirmed it."""
    return params.suspicion_mult * _scale(n) * params.probe_interval


def suspicion_max(params: Params, n: int) -> float:
    """Seconds a suspicion lasts when no one else confirms it."""
    return params.suspicion_max_mult * suspicion_min(params, n)


def confirmations_wanted(params: Params, n: int) -> int:
    """Independent confirmations that bring a suspicion down to its
    minimum. Small clusters have too few other members to ask for any."""
    wanted = params.suspicion_mult - 2
    return wanted if n - 2 >= wanted else 0


def suspicion_timeout(params: Params, n: int, confirmations: int) -> float:
    """How long a suspicion lasts in all, given the confirmations heard:
    from the maximum down to the minimum, on a log scale, so the first
    confirmations count most."""
    low, high = suspicion_min(params, n), suspicion_max(params, n)
    wanted = confirmations_wanted(params, n)
    if wanted == 0 or confirmations >= wanted:
        return low
    done = math.log(min(confirmations, wanted) + 1) / math.log(wanted + 1)
    return max(low, high - done * (high - low))


def retransmit_limit(params: Params, n: int) -> int:
    """Times an update is piggybacked before it is dropped: enough for
    an infection-style spread to reach every member with high odds."""
    return params.retransmit_mult * max(1, math.ceil(math.log10(n + 1)))
