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

"""sodos's commands: the site services and the operator tools.

Every sodos process runs on native threads (oslo.service's threading
backend). futurist, which oslo.service loads, imports eventlet whenever it
is installed (oslo.service still depends on it), and eventlet brings
dnspython and pyOpenSSL: ~13 MB per process for nothing, times every site
of a federation rehearsed on one machine. Mark it absent for sodos's own
processes, unless something loaded it already.
"""

import sys

if 'eventlet' not in sys.modules:
    sys.modules['eventlet'] = None  # type: ignore[assignment]
