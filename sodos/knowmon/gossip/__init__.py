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


"""Failure detection by SWIM-style gossip among the KB's members.

Each member probes one other per interval, asks k others to probe it when
it does not answer, suspects it when no one could reach it, and declares it
dead only when the suspicion was not refuted in time. Updates ride on the
probes themselves (piggybacked), a bounded number of times each, so no
member hears from every other one each interval.

:mod:`.swim` is the protocol as a pure state machine (no sockets, no clock:
time and randomness come in from the caller); :mod:`.transport` carries its
messages over UDP.
"""
