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
    'analyseplan',
    title='AnalysePlan',
    help='The Analyse and Plan role: placement and re-placement of '
    'appliances; acts only beside the Raft leader.',
)

OPTS: list[cfg.Opt] = [
    cfg.FloatOpt(
        'loop_interval',
        default=5.0,
        min=0.05,
        mutable=True,
        help='Seconds between planning cycles. Only the AnalysePlan '
        'beside the Raft leader plans; the others check each cycle '
        'whether they have to take over.',
    ),
    cfg.ListOpt(
        'filters',
        default=[
            'site_up',
            'constraints',
            'image',
            'flavor',
            'capacity',
            'spread',
            'affinity',
            'failed_here',
        ],
        help='Placement filters, plugins of sodos.analyseplan.filters, '
        'in the order they explain a refusal.',
    ),
    cfg.DictOpt(
        'weights',
        default={
            'free_ram': 1.0,
            'cost': 0.5,
            'energy': 0.5,
            'latency': 0.2,
            'pack': 0.0,
        },
        help='Placement weighers (plugins of sodos.analyseplan.weighers) '
        'and their multipliers; 0 turns one off. With the federation '
        "policy 'consolidate' on, only 'marginal_cost' counts: new "
        'members fill the sites that cost least in energy and money.',
    ),
    cfg.FloatOpt(
        'carbon_price',
        default=0.1,
        min=0.0,
        help='Price of one kg of CO2, in the currency of '
        '[site_profile]cost_per_vcpu_hour: how the planner weighs a '
        "site's energy against its vCPU price.",
    ),
    cfg.FloatOpt(
        'retry_after',
        default=60.0,
        min=1.0,
        help='Seconds before a create that failed with a transient error '
        'is asked of the same site again, and before an image copy that '
        'failed is tried again (from another source when there is one).',
    ),
    cfg.FloatOpt(
        'failed_site_retry_after',
        default=600.0,
        min=0.0,
        help='Seconds a member is kept off a site where its server failed '
        'with a permanent error (no valid host, quota exceeded...), from '
        'the failure. Nova says "no valid host" of a compute host that '
        'missed its heartbeats under load, or of room freed since: after '
        'this time the planner may place the member there again, and '
        'builds it anew if that site is still the best; a new failure '
        'starts the time again. 0 never tries such a site again. The '
        "member's unplaced reason says when it is tried again.",
    ),
    cfg.IntOpt(
        'image_uploads_per_source',
        default=2,
        min=1,
        help='Image copies one site serves at the same time. Every site '
        'that has received an image serves it to others in turn, so an '
        'image reaches N sites in about log(N) rounds of copies; a higher '
        "limit takes fewer rounds and more of each source's bandwidth.",
    ),
    cfg.IntOpt(
        'image_prestage_sites',
        default=2,
        min=0,
        help="Sites per image, for images whose target is 'needed', where "
        'the image is copied ahead of need: the sites the members using '
        'it would move to if their site failed (asked of the planner as '
        'what-if questions), most needed first. 0 copies such images '
        'only where a member is placed.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
