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

"""The federation identity: one set of credentials at every site.

The desired state (domains, projects, users, groups, memberships, role
assignments) lives in the Knowledge Base
(:mod:`sodos.kb.sections.identity`); each site's Exec converges its own
Keystone to it (:mod:`sodos.exec.identity.sync`) through a writer
(:mod:`sodos.identity.writer`). The diff is made by pure functions
(:mod:`sodos.identity.converge`) so that it can be tested without a
Keystone.
"""
