"""One registry of every env: PettingZoo's (``socialdilemmas/<name>-v0``) and ``make_vec``.

Adding a game = adding one line to :data:`ENV_MODULES`; the test battery is parametrised over
this registry, so a registered env gets every API, seeding, pickling and equivalence test.

PettingZoo has had a registry (``pettingzoo.make``, ``pettingzoo.register``) only since 1.27;
with an older PettingZoo the envs are created from their modules (``ipd_v0.parallel_env()``)
and :func:`register_with_pettingzoo` registers nothing.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

import pettingzoo

from socialdilemmas.core.parallel import SocialDilemmaParallelEnv
from socialdilemmas.core.vector import VectorEnv

NAMESPACE = "socialdilemmas"
#: True when the installed PettingZoo has a registry (``pettingzoo.make``; PettingZoo >= 1.27)
PETTINGZOO_HAS_REGISTRY: bool = hasattr(pettingzoo, "aec_registry")

#: versioned name -> module exporting env, raw_env, parallel_env
ENV_MODULES: dict[str, str] = {
    "ipd_v0": "socialdilemmas.ipd_v0",
    "matrix_game_v0": "socialdilemmas.matrix_game_v0",
    "coin_game_v0": "socialdilemmas.coin_game_v0",
    "negotiation_v0": "socialdilemmas.negotiation_v0",
}


def env_ids() -> list[str]:
    """Versioned names of every registered env, e.g. ``["ipd_v0", ...]``."""
    return list(ENV_MODULES)


def env_module(env_id: str) -> ModuleType:
    """The versioned module (``env``, ``raw_env``, ``parallel_env``) of ``env_id``."""
    return importlib.import_module(ENV_MODULES[canonical_id(env_id)])


def env_variants() -> list[tuple[str, str, dict[str, Any]]]:
    """Every ``(env_id, variant name, kwargs)`` of every registered env."""
    return [
        (name, variant, dict(kwargs))
        for name in ENV_MODULES
        for variant, kwargs in env_class(name).variants.items()
    ]


def env_class(env_id: str) -> type[SocialDilemmaParallelEnv]:
    """The ParallelEnv class behind ``env_id``."""
    return env_module(env_id).parallel_env.env_class


def canonical_id(env_id: str) -> str:
    """Normalise ``"ipd_v0"``, ``"ipd-v0"`` or ``"socialdilemmas/ipd-v0"`` to ``"ipd_v0"``."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string, got {env_id!r}")
    name = env_id.split("/", 1)[1] if env_id.startswith(NAMESPACE + "/") else env_id
    name = re.sub(r"-v(\d+)$", r"_v\1", name)
    if name not in ENV_MODULES:
        raise KeyError(f"unknown env {env_id!r}; registered envs are {env_ids()}")
    return name


def make_vec(
    env_id: str,
    num_envs: int,
    seed: int | list[int] | None = None,
    *,
    copy: bool = True,
    render_mode: str | None = None,
    **kwargs: Any,
) -> VectorEnv:
    """Create a :class:`VectorEnv` of ``num_envs`` copies of ``env_id``.

    Args:
        env_id: ``"ipd_v0"``, ``"coin_game_v0"``, ... (``"socialdilemmas/ipd-v0"`` works too).
        num_envs: batch size.
        seed: seed of the first ``reset()`` (sub-env ``i`` gets ``seed + i``); a later
            ``reset(seed=...)`` overrides it.
        copy: return fresh arrays (default) or the env's own buffers (faster; overwritten by the
            next call).
        render_mode: None, "ansi" or "rgb_array" for :meth:`VectorEnv.render`.
        **kwargs: the env's own arguments (``max_cycles``, ``payoffs``, ``grid_size``,
            ``obs_layout``, ...), validated exactly as the PettingZoo env validates them.
    """
    name = canonical_id(env_id)
    single: SocialDilemmaParallelEnv = env_module(name).parallel_env(**kwargs)
    return VectorEnv(
        single.game,
        num_envs,
        single.max_cycles,
        copy=copy,
        render_mode=render_mode,
        env_id=name,
        seed=seed,
        obs_layout=single.obs_layout,
    )


def pettingzoo_id(env_id: str) -> str:
    """PettingZoo registry id of ``env_id``, e.g. ``"socialdilemmas/ipd-v0"``."""
    return f"{NAMESPACE}/" + re.sub(r"_v(\d+)$", r"-v\1", canonical_id(env_id))


def register_with_pettingzoo() -> bool:
    """Register every env under ``socialdilemmas/<name>-v0`` for both APIs (idempotent).

    Returns True when the ids are registered, False when the installed PettingZoo has no
    registry (before 1.27), in which case nothing is done: the envs are still made from their
    modules and with :func:`make_vec`.
    """
    if not hasattr(pettingzoo, "aec_registry"):
        return False
    for name, module_name in ENV_MODULES.items():
        env_id = pettingzoo_id(name)
        if env_id in pettingzoo.aec_registry:
            continue
        module = importlib.import_module(module_name)
        pettingzoo.register("aec", env_id, entry_point=module.env)
        pettingzoo.register("parallel", env_id, entry_point=module.parallel_env)
    return True
