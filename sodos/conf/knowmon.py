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

from oslo_config import cfg

from sodos.conf import base

GROUP = cfg.OptGroup(
    'knowmon',
    title='KnowMon',
    help="The Knowledge and Monitoring role: this site's KB member, "
    'failure detection and alerts.',
)

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'state_backend',
        default='raft',
        help='State backend holding the Knowledge Base (namespace '
        'sodos.state_backends): "raft" for a real site, "memory" for '
        'a single-process test site.',
    ),
    cfg.FloatOpt(
        'heartbeat_interval',
        default=0.5,
        min=0.05,
        mutable=True,
        help="Seconds between this site's liveness messages to the "
        'leader. See [knowmon]site_down_timeout.',
    ),
    cfg.FloatOpt(
        'gossip_report_interval',
        default=5.0,
        min=0.05,
        mutable=True,
        help='With [knowmon]failure_detector = gossip, seconds between '
        "this site's reports to the leader (how far it has applied the "
        'log and a fingerprint of its KB, for the stalled and diverged '
        'member checks). The gossip tells liveness, so the leader need '
        'not hear every member each [knowmon]heartbeat_interval; a value '
        'under heartbeat_interval is raised to it.',
    ),
    cfg.FloatOpt(
        'site_down_timeout',
        default=5.0,
        min=0.1,
        mutable=True,
        help='A site the leader has not heard of for this long is marked '
        'down. On a LAN 1.5 is enough; on a WAN use 10.',
    ),
    cfg.StrOpt(
        'failure_detector',
        default='heartbeat',
        choices=[
            (
                'heartbeat',
                'every member reports to the leader, which marks '
                'down a site it has not heard of for [knowmon]'
                'site_down_timeout',
            ),
            (
                'gossip',
                'members probe one another (SWIM) over UDP; the '
                'leader marks down a site only once the gossip confirmed it '
                'dead. Needs the raft state backend.',
            ),
        ],
        help='How the leader learns that a site failed.',
    ),
    cfg.BoolOpt(
        'gossip_leader_election',
        default=False,
        help='With [knowmon]failure_detector = gossip, a voter whose gossip '
        "confirms the Raft leader's site dead stands for election at once "
        'rather than at its election timeout ([raft]election_timeout_min '
        'and _max), if it has not heard that leader for a quarter of the '
        'minimum election timeout (at least a second), or three times the '
        "longest recent gap between the leader's heartbeats if longer. "
        'Faster failover where the election timeouts are long; on an '
        'overloaded machine, where the gossip may wrongly confirm a live '
        'leader dead, it can cause needless elections, hence off by '
        'default.',
    ),
    cfg.IntOpt(
        'gossip_port_offset',
        default=2,
        min=2,
        max=1000,
        help='With [knowmon]failure_detector = gossip, the UDP port of '
        "the gossip is the site's Raft port plus this. Every site of a "
        'federation must use the same offset: it is how the others find '
        "a site's gossip port from its Raft address.",
    ),
    cfg.FloatOpt(
        'gossip_probe_interval',
        default=0.3,
        min=0.05,
        help='Seconds between two gossip probes a site starts. Detection '
        'takes a few of these times log10 of the number of sites. A site '
        'that misses answers itself (a loaded machine) stretches this, '
        'its probe timeout and its suspicions, up to 8 times, so that it '
        'does not accuse healthy sites.',
    ),
    cfg.FloatOpt(
        'gossip_probe_timeout',
        default=0.1,
        min=0.01,
        help='Seconds a gossip probe waits for its answer before asking '
        '[knowmon]gossip_indirect_checks other sites to probe the target, '
        'and those sites wait before they answer that the target failed '
        'them too. Must be under [knowmon]gossip_probe_interval, and '
        'twice it plus two round trips between sites should fit in the '
        'interval; above the round trip between sites.',
    ),
    cfg.IntOpt(
        'gossip_indirect_checks',
        default=3,
        min=1,
        max=16,
        help='Sites asked to probe a target that did not answer directly.',
    ),
    cfg.IntOpt(
        'gossip_suspicion_mult',
        default=4,
        min=1,
        max=100,
        help='A suspected site is declared dead after at least this many '
        'probe intervals times log10(number of sites), unless it refutes; '
        'up to 6 times that when no other site confirms the suspicion.',
    ),
    cfg.FloatOpt(
        'loop_interval',
        default=1.0,
        min=0.05,
        mutable=True,
        help='Seconds between KnowMon decision cycles. Beside the Raft '
        'leader each cycle marks sites down or up (see '
        '[knowmon]site_down_timeout); elsewhere it only reports the '
        "member's state.",
    ),
    cfg.BoolOpt(
        'serve_rpc',
        default=True,
        help="Serve the KnowMon RPC API on the site's message bus "
        '([DEFAULT]transport_url), for the roles and services of this site '
        'that run in other processes. A sodos-site running every role '
        'needs no bus and may turn it off.',
    ),
    cfg.StrOpt(
        'rpc_topic',
        default='sodos-knowmon',
        help="RPC topic of the KnowMon API on the site's message bus.",
    ),
    cfg.FloatOpt(
        'summary_change_threshold',
        default=5.0,
        min=0.0,
        mutable=True,
        help='Percent change of a monitored value that makes a new site '
        'summary worth committing to the KB.',
    ),
    cfg.FloatOpt(
        'overload_threshold',
        default=90.0,
        min=1.0,
        max=100.0,
        mutable=True,
        help="Percent of a site's vCPU, RAM or disk in use above which "
        'the leader raises an overload alert; AnalysePlan then moves the '
        'lowest-priority members away until the site is '
        '[knowmon]overload_hysteresis points under it.',
    ),
    cfg.FloatOpt(
        'overload_hysteresis',
        default=10.0,
        min=0.0,
        max=50.0,
        mutable=True,
        help='Points under [knowmon]overload_threshold a site must fall '
        'to before its overload alert closes.',
    ),
    cfg.FloatOpt(
        'summary_max_age',
        default=300.0,
        min=1.0,
        mutable=True,
        help='Seconds after which a site summary is committed again even '
        'if nothing changed, so the KB shows how fresh it is.',
    ),
    cfg.FloatOpt(
        'history_interval',
        default=10.0,
        min=0.0,
        mutable=True,
        help='Seconds between copies of ended actions, closed alerts and '
        "monitoring samples from the KB into this site's history "
        'database ([database]connection; create it with sodos-manage db '
        'sync). 0 turns the history off.',
    ),
    cfg.FloatOpt(
        'action_retention',
        default=3600.0,
        min=60.0,
        mutable=True,
        help='Seconds an ended action stays in the KB before the leader '
        'prunes it (the history databases keep it). Keep it well above '
        '[knowmon]history_interval so every site copies it first.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
