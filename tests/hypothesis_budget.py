"""How many examples a property test runs: its budget under ``make test``, scaled for ``make fuzz``.

A test that is worth more (or fewer) examples than the profile's default says so as
``@settings(max_examples=examples(500))``: it runs 500 examples under the deterministic ``ci``
profile, and as many times more under ``fuzz`` as that profile's ``max_examples`` exceeds
``ci``'s (both are registered in ``tests/conftest.py``). A plain ``max_examples=500`` would pin
the count under every profile, and ``make fuzz`` would explore no further.
"""

from __future__ import annotations

from hypothesis import settings


def examples(budget: int) -> int:
    """``budget`` under the ``ci`` profile, scaled by the active profile's ``max_examples``."""
    ci = settings.get_profile("ci").max_examples
    return max(1, budget * settings().max_examples // ci)
