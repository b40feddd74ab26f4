"""The ``connector-git`` boundary: what can go wrong between the connector and a repository.

=========================  ===================================================================
code                       when
=========================  ===================================================================
``invalid_config``         ``path`` missing, empty or not absolute in ``max.json``
``not_a_repository``       the path does not exist, is not a directory or not a git repository
``git_failed``             a git command exited non-zero (its first line of stderr is quoted)
``git_missing``            no ``git`` executable on ``PATH``
=========================  ===================================================================

Every message is one line and names the repository path.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, HasConnector, NotAvailable, NotFound

GitConnectorBoundary = Boundary("connector-git")
_define = GitConnectorBoundary.define

ErrInvalidConfig = _define(
    "invalid_config", facets=[BadInput, HasConnector], message="Invalid git config: {reason}"
)
ErrNotARepository = _define(
    "not_a_repository",
    facets=[NotFound, HasConnector],
    message="{path} is not a git repository: {reason}",
)
ErrGitFailed = _define(
    "git_failed", facets=[HasConnector], message="git {command} failed in {path}: {reason}"
)
ErrGitMissing = _define(
    "git_missing",
    facets=[NotAvailable, HasConnector],
    message="git is not installed or not on PATH ({reason})",
)
