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

"""What a driver raises about an image, and the image code catches.

Here rather than beside the driver interface: the image code sits above
the drivers and imports them only for types, the drivers import this.
"""

from __future__ import annotations

from sodos import exception


class ImageNotFound(exception.PermanentError):
    """No image with that id at the site."""


class ImageNotActive(exception.PermanentError):
    """The image exists at the site but has no data to serve."""


class PullUnavailable(exception.PermanentError):
    """The site cannot fetch this image from that source by itself: not
    set up for it (credentials, import method, catalog, policy). Nothing
    a stream copy cannot use was changed (at most the image was made,
    ``queued``): the image can still be streamed to it."""


class PullFailed(exception.TransientError):
    """The site's own fetch of an image failed; the image is left as a
    stream copy finds it (``queued``), under its id."""
