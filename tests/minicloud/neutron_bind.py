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

"""An ML2 mechanism driver that binds every port, on any host, at once.

A site runs nova's fake virt driver: no hypervisor, no vswitch, no L2
agent. Every mechanism driver neutron ships binds a port only to a host
whose agent reports alive (openvswitch, ovn...), so without one nova's
``server create --network X`` ends in PortBindingFailed. This driver
stands in for the L2 side: it binds the first segment with
``vif_type=ovs`` and marks the port ACTIVE, as an agent would once the
device is wired. nova's fake driver plugs nothing and waits for no
``network-vif-plugged`` event (only the libvirt driver does), so no
agent and no RPC server are needed.

neutron.py copies this file into the site (SITE/wsgi/minicloud_ml2.py)
next to a ``.dist-info`` that declares it as the entry point
``minicloud`` of ``neutron.ml2.mechanism_drivers``: ML2 loads mechanism
drivers by entry point name only. It imports only neutron-lib.
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAnyHostDriver(api.MechanismDriver):
    def initialize(self):
        return None

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
