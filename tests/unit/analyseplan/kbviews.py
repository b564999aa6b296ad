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

"""Hand-made KB views for the planner's tests."""

from sodos.kb import commands

FLAVORS = {
    'm1.tiny': {'vcpus': 1, 'ram_mb': 512, 'disk_gb': 1},
    'm1.small': {'vcpus': 1, 'ram_mb': 2048, 'disk_gb': 20},
    'm1.large': {'vcpus': 4, 'ram_mb': 8192, 'disk_gb': 80},
}


def site(
    name,
    vcpu=16.0,
    ram=32768.0,
    disk=1000.0,
    used=(0.0, 0.0, 0.0),
    images=('cirros',),
    status='up',
    maintenance='',
    servers=None,
    api_ok=True,
    **profile,
):
    profile.setdefault('region', name)
    record = {
        'name': name,
        'status': status,
        'info': {'profile': profile},
    }
    if maintenance:
        record['maintenance'] = maintenance
    summary = {
        'api': {'ok': api_ok, 'latency_ms': 10.0},
        'capacity': {
            'vcpu': {'total': vcpu, 'used': used[0]},
            'ram_mb': {'total': ram, 'used': used[1]},
            'disk_gb': {'total': disk, 'used': used[2]},
        },
        'servers': servers or {},
        'images': sorted(images),
        'flavors': FLAVORS,
    }
    return name, record, summary


def kb(sites, appliances=None, placements=None, actions=None):
    return {
        'sites': {name: record for name, record, _ in sites},
        'monitoring': {
            name: {'summary': summary} for name, _, summary in sites
        },
        'appliances': {
            aid: {'spec': spec} for aid, spec in (appliances or {}).items()
        },
        'placements': placements or {},
        'actions': actions or {},
    }


def spec(
    name='app', count=1, flavor='m1.small', image='cirros', **constraints
):
    priority = constraints.pop('priority', 50)
    return {
        'name': name,
        'priority': priority,
        'members': [
            {'name': 'web', 'image': image, 'flavor': flavor, 'count': count}
        ],
        'constraints': constraints,
    }


def placed(appliance_id, member, site_name, **info):
    return {
        '%s/%s' % (appliance_id, member): {
            'appliance_id': appliance_id,
            'member': member,
            'site': site_name,
            'info': info,
        }
    }


def reporting_sites(backend):
    """'here' plus sites s2 and s3 in ``backend``'s KB, each with a
    monitoring report; ``backend.report(name, **site_kwargs)`` reports
    again."""

    def report(name, **kwargs):
        _, _, summary = site(name, **kwargs)
        summary['collected_at'] = 1.0
        result = backend.propose(
            'monitoring.report', {'site': name, 'summary': summary}
        )
        assert result['ok']

    for name, address in (('s2', 'h:2'), ('s3', 'h:3')):
        backend.propose(
            'site.register',
            {
                'site': name,
                'address': address,
                'info': {'kb_schema': commands.SCHEMA_VERSION},
            },
        )
    for name in ('here', 's2', 's3'):
        report(name)
    backend.report = report
    return backend
