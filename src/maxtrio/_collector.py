"""The cyclic garbage collector, held off while a ``max`` process starts.

Starting a command creates objects that live as long as the process — modules, classes,
functions, the command table — and the cyclic collector walks them again and again as they
arrive: about seventy collections during a ``max search``. They free nothing: reference
counting frees every object that is not in a cycle, collector or not. So direct mode holds the
collector from its first import (:func:`hold`) and gives it back once the command has run for
:data:`RELEASE_AFTER` seconds (:func:`release_later`): a short command — ``ls``, ``status``,
``search``, ``--help`` — never pays it, a long one (``sync``, ``serve``, ``mcp``) runs with it
like any other process.

Giving it back *freezes* what exists first (``gc.freeze``: the start-up's objects move to the
generation no collection walks), so the first collection after it does not walk every object
the start-up made, and the later full ones do not walk them again. A short command does not
give it back at all when it ends: the process exits, and enabling the collector then would
make the next allocations collect the whole start-up once (~10 ms). A process whose collector
was already off stays as it was.
"""

from __future__ import annotations

import gc

#: Seconds a command runs before the collector comes back.
RELEASE_AFTER = 0.25

_held = False


def hold() -> None:
    """Turn the collector off until :func:`release` (nothing when it is off already)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Give the collector back if :func:`hold` took it."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


async def release_later(delay: float = RELEASE_AFTER) -> None:
    """:func:`release` after ``delay`` seconds of the command (run as a trio system task, so
    it never wraps what the command raises)."""
    if _held:
        import trio

        await trio.sleep(delay)
        release()
