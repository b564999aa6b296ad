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

"""The one error a minicloud operation raises.

It names the phase that failed and, where there is one, the log file to
read, so that a failed start says where to look without a traceback.
"""

from __future__ import annotations


class MinicloudError(Exception):
    def __init__(
        self, phase: str, message: str, log_file: str | None = None
    ) -> None:
        self.phase = phase
        self.message = message
        self.log_file = log_file
        super().__init__(str(self))

    def __str__(self) -> str:
        text = '%s: %s' % (self.phase, self.message)
        if self.log_file:
            text += ' (read %s)' % self.log_file
        return text
