"""Say once, on stderr, when a game's Numba kernels are about to be compiled.

The kernels are compiled on their first call and cached on disk (``cache=True``); on a cold
cache the first reset of the Coin Game or the Negotiation Game takes several seconds with
nothing on the screen, which looks like a hang. :func:`announce_cold_compile` prints one line
before that first call when no valid cached copy exists, and nothing once the kernels are in
the process or in the cache.
"""

from __future__ import annotations

import sys
from types import ModuleType

#: the games already announced (or found compiled) in this process
_CHECKED: set[str] = set()

#: the kernels whose compilation is announced: the entry points of each game's kernel module
KERNEL_NAMES = ("reset_kernel", "step_kernel")


def _is_cached(dispatcher: object) -> bool:
    """Whether ``dispatcher`` is compiled in this process or has a valid on-disk cache entry.

    Reads Numba's cache index (the same check Numba makes before loading); if that internal
    API changes, the kernels count as cached and nothing is printed.
    """
    if getattr(dispatcher, "signatures", None):
        return True
    try:
        return bool(dispatcher._cache._cache_file._load_index())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an internal Numba API: stay silent rather than fail
        return True


def announce_cold_compile(game_name: str, kernels: ModuleType) -> None:
    """Print "compiling the <game_name> kernels ..." once per process if they are not cached."""
    if game_name in _CHECKED:
        return
    _CHECKED.add(game_name)
    dispatchers = [getattr(kernels, name) for name in KERNEL_NAMES if hasattr(kernels, name)]
    if not all(_is_cached(dispatcher) for dispatcher in dispatchers):
        print(
            f"socialdilemmas: compiling the {game_name} kernels (first run only, cached "
            "afterwards) ...",
            file=sys.stderr,
            flush=True,
        )
