"""The ``connector-claude-code`` boundary: a bad config, or a root that cannot be listed.

=========================  ===================================================================
code                       when
=========================  ===================================================================
``invalid_config``         ``root`` missing or not absolute in ``max.json``
``root_unavailable``       the root does not exist, is not a directory or cannot be listed
=========================  ===================================================================

Problems inside logs (a line that is not JSON, a record of an unknown type, an unreadable
file) are not errors: the line or file is left out and counted in the sync's ``skipped``; a
last line still being written is simply read by a later sync.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, HasConnector, NotFound

ClaudeCodeConnectorBoundary = Boundary("connector-claude-code")
_define = ClaudeCodeConnectorBoundary.define

ErrInvalidConfig = _define(
    "invalid_config",
    facets=[BadInput, HasConnector],
    message="Invalid claude-code config: {reason}",
)
ErrRootUnavailable = _define(
    "root_unavailable",
    facets=[NotFound, HasConnector],
    message="Cannot list Claude Code logs in {path}: {reason}",
)
