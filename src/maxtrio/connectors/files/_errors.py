"""The ``connector-files`` boundary: a bad config, or a root that cannot be listed.

=========================  ===================================================================
code                       when
=========================  ===================================================================
``invalid_config``         ``root`` missing/relative, a bad include/exclude pattern
``root_unavailable``       the root does not exist, is not a directory or cannot be read
=========================  ===================================================================

Problems with single files (unreadable, a broken symlink, a symlink loop) are not errors: the
file is left out and counted in the sync's ``skipped``.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, HasConnector, NotFound

FilesConnectorBoundary = Boundary("connector-files")
_define = FilesConnectorBoundary.define

ErrInvalidConfig = _define(
    "invalid_config", facets=[BadInput, HasConnector], message="Invalid files config: {reason}"
)
ErrRootUnavailable = _define(
    "root_unavailable",
    facets=[NotFound, HasConnector],
    message="Cannot list {path}: {reason}",
)
