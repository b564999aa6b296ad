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
    'raft',
    title='Replicated Knowledge Base',
    help="This site's member of the Raft log that replicates the "
    'Knowledge Base between sites.',
)

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'address',
        sample_default='192.0.2.10:7700',
        help='HOST:PORT at which the other members reach this one. Raft '
        'uses PORT; the membership control channel uses PORT+1. Read-only '
        'members open the Raft port only once promoted to voter.',
    ),
    cfg.StrOpt(
        'bind_host',
        help='Address to listen on. Defaults to the host part of '
        '[raft]address.',
    ),
    cfg.ListOpt(
        'join',
        default=[],
        help='[raft]address of one or more existing members to join '
        'through. Leave empty on the first site: a site with no state and '
        'nothing to join bootstraps a new federation. Ignored once the '
        'site has state in [raft]data_dir.',
    ),
    cfg.StrOpt(
        'data_dir',
        default='$state_path/raft',
        help='Journal, snapshot and membership record of this member.',
    ),
    cfg.StrOpt(
        'password',
        secret=True,
        help='Federation password, the same at every site. It encrypts '
        'and authenticates Raft traffic (pysyncobj), keys the MACs of the '
        'control channel and signs image relay URLs. Required: without it '
        'the Raft port would run any code sent to it. See '
        '[raft]insecure_dev_mode.',
    ),
    cfg.StrOpt(
        'ssl_ca_file',
        help='PEM file of the federation CA. The control channel and the '
        'image relay accept only peers whose certificate this CA signed. '
        'Required with [raft]ssl_cert_file and [raft]ssl_key_file: sites '
        'refuse plaintext unless [raft]insecure_dev_mode is on.',
    ),
    cfg.StrOpt(
        'ssl_cert_file',
        help="PEM file of this site's certificate, signed by the CA of "
        '[raft]ssl_ca_file (intermediate CA certificates may follow it). '
        'It must name the host of [raft]address and of the image relay '
        'URL ([image_relay]public_url or bind_host) as a DNS or IP '
        'subject alternative name: peers check it. This site presents it '
        'as server and as client (mutual TLS).',
    ),
    cfg.StrOpt(
        'ssl_key_file',
        help='PEM file of the private key of [raft]ssl_cert_file, '
        'unencrypted; readable by the sodos user only.',
    ),
    cfg.BoolOpt(
        'insecure_dev_mode',
        default=False,
        help='DEVELOPMENT ONLY. Allow running without [raft]password and '
        'without TLS ([raft]ssl_* unset): the control channel and the '
        'image relay then talk plaintext, and without a password the '
        'Raft port accepts unauthenticated pickles (it runs any code sent '
        'to it). Only accepted when [raft]address and [raft]bind_host are '
        'loopback addresses; the site logs a warning at start and '
        '"sodos-status upgrade check" reports it.',
    ),
    cfg.FloatOpt(
        'election_timeout_min',
        default=0.4,
        min=0.01,
        help='Shortest election timeout, seconds. Must exceed three '
        '[raft]heartbeat_period. On a WAN use about 1.0.',
    ),
    cfg.FloatOpt(
        'election_timeout_max',
        default=1.4,
        min=0.01,
        help='Longest election timeout, seconds; above '
        '[raft]election_timeout_min. On a WAN use about 3.0.',
    ),
    cfg.FloatOpt(
        'heartbeat_period',
        default=0.1,
        min=0.001,
        help='Raft append-entries period (leader heartbeat and batching), '
        'seconds. Keep it at 2-3 times the worst round trip between '
        'voters.',
    ),
    cfg.FloatOpt(
        'connection_timeout',
        default=3.5,
        min=0.01,
        help='Seconds without traffic before a Raft connection is '
        'considered lost; at least [raft]election_timeout_max.',
    ),
    cfg.FloatOpt(
        'connection_retry_time',
        default=1.0,
        min=0.01,
        help='Seconds between attempts to reconnect to a member.',
    ),
    cfg.FloatOpt(
        'leader_fallback_timeout',
        default=5.0,
        min=0.01,
        help='A leader that hears from no majority for this long steps '
        'down. Shorter means a shorter window in which a cut-off leader '
        'still believes it leads.',
    ),
    cfg.BoolOpt(
        'observer',
        default=False,
        help='Follow the Knowledge Base without being a site: the member '
        'registers no site record, is never counted or promoted as a '
        'voter and raises no alert when it stops. For tools that read '
        'and write the KB in their own process (sodos-sim, benchmarks).',
    ),
    cfg.BoolOpt(
        'batch_append_entries',
        default=False,
        help='Hold new log entries until the next heartbeat and send them '
        'then. Every commit then waits up to one [raft]heartbeat_period '
        '(two for a write made on a follower). Off (the default), the '
        'leader sends at once what arrived together, and followers learn '
        'of a commit at once.',
    ),
    cfg.IntOpt(
        'max_frame_bytes',
        default=4 * 1024 * 1024,
        min=256 * 1024,
        help='A peer that announces a larger message on the Raft port is '
        'disconnected before anything of it is buffered. Members send '
        'entries and snapshots in chunks of 64 KiB; the limit only has to '
        'exceed the largest single Knowledge Base command.',
    ),
    cfg.IntOpt(
        'max_inflight_bytes',
        default=1024 * 1024,
        min=1024,
        help='The leader sends a member at most this many bytes of log '
        'entries beyond what the member has acknowledged, and more as it '
        'acknowledges them. Bounds what a member catching up on a long '
        'log has queued at once, and so what is sent again if its '
        'connection drops. At least one batch of entries (64 KiB) is '
        'always allowed. Raise it on links whose bandwidth times round '
        'trip exceeds it.',
    ),
    cfg.StrOpt(
        'fsync',
        default='batch',
        choices=[
            ('always', 'sync the journal after every appended entry'),
            (
                'batch',
                'sync once per batch: before entries are acknowledged to '
                'the leader or counted towards a commit',
            ),
            (
                'off',
                'never sync: an acknowledged write survives a killed '
                'process, not a power loss of a majority of voters',
            ),
        ],
        help='When the Raft journal is synced to disk. "batch" keeps '
        'every acknowledged write through a power loss at the cost of '
        'one sync per batch of entries; see the administrator guide for '
        'the measured cost of each.',
    ),
    cfg.IntOpt(
        'compaction_min_entries',
        default=50_000,
        min=2,
        help='Snapshot the Knowledge Base and drop the log before it once '
        'the log holds this many entries. The log lives in memory until '
        'then; a snapshot pauses this member while it is written.',
    ),
    cfg.FloatOpt(
        'compaction_min_time',
        default=300.0,
        min=0.1,
        help='Seconds after which the log is compacted even below '
        '[raft]compaction_min_entries. Voters take turns within this '
        'period, so that they do not all pause at once.',
    ),
    cfg.IntOpt(
        'voter_count',
        default=5,
        choices=[1, 3, 5, 7],
        help='How many members vote in the consensus; the others '
        'replicate without voting. Used when the federation is '
        'bootstrapped; afterwards the federation policy in the KB rules.',
    ),
    cfg.FloatOpt(
        'voter_replace_timeout',
        default=30.0,
        min=0.1,
        mutable=True,
        help='Seconds a voter may be unreachable before the leader '
        'promotes another member in its place.',
    ),
    cfg.FloatOpt(
        'commit_timeout',
        default=10.0,
        min=0.1,
        mutable=True,
        help='Seconds a write may wait to be committed before it fails '
        'with an error (its outcome is then unknown; retrying is safe).',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
