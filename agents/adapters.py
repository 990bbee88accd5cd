"""Adapters that turn a torch module or a stable-baselines3 model into a :class:`Policy`.

Both are reached through :func:`agents.policy.as_policy`, so a researcher never has to name
them; they are public for the options (``deterministic``, ``action_space``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.policy import Policy
from agents.validation import NonFiniteError


def _seed_from(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


class TorchModulePolicy(Policy):
    """A ``torch.nn.Module`` that maps a batch of observations to action scores, as a policy.

    What the module must return, for a batch of ``n`` observations:

    * ``Discrete(k)`` games (IPD, Coin Game): logits ``(n, k)``;
    * ``MultiDiscrete(nvec)`` games (discrete Negotiation Game): per-component logits, either a
      sequence of ``(n, nvec[i])`` tensors, one ``(n, sum(nvec))`` tensor (split by ``nvec``) or,
      when every component has ``k`` choices, one ``(n, len(nvec), k)`` tensor;
    * ``Box`` games (continuous Negotiation Game): the actions themselves ``(n, *shape)``,
      clipped to the box.

    Discrete actions are sampled from the softmax (``deterministic=False``, the default, with a
    generator seeded by :meth:`reset`) or the argmax is taken (``deterministic=True``). The module
    is called under ``torch.no_grad()`` and has no memory between calls; a recurrent agent should
    implement :class:`Policy` itself.

    Args:
        module: the network; it is put in eval mode.
        action_space: the single-agent action space. Optional for ``Discrete`` games, where
            ``(n, k)`` logits are unambiguous; :func:`agents.evaluation.match` passes it.
        deterministic: take the most likely action instead of sampling.
        name: label in tables; defaults to the module's class name.

    """

    def __init__(
        self,
        module: torch.nn.Module,
        action_space: spaces.Space | None = None,
        deterministic: bool = False,
        name: str | None = None,
    ) -> None:
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
        self.module = module.eval()
        self.action_space = action_space
        self.deterministic = bool(deterministic)
        self.name = name or type(module).__name__
        self._generator = torch.Generator().manual_seed(0)

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Restart the sampling generator from ``seed`` (a fresh random seed when None)."""
        if seed is None:
            seed = _seed_from(np.random.default_rng())
        self._generator = torch.Generator().manual_seed(int(seed))

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions for the batch (see the class docstring for what the module returns)."""
        return self.act_with_log_probs(observations, episode_starts)[0]

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Actions and, for discrete games, the log-probability of each (summed over components)."""
        with torch.no_grad():
            output = self.module(torch.as_tensor(observations, dtype=torch.float32))
        n = observations.shape[0]
        space = self.action_space
        if isinstance(space, spaces.Box):
            actions = _as_tensor(output, self.name).reshape(n, *space.shape)
            if not bool(torch.isfinite(actions).all()):
                raise NonFiniteError(f"module {self.name!r} returned NaN or infinite actions")
            low = torch.as_tensor(space.low, dtype=actions.dtype)
            high = torch.as_tensor(space.high, dtype=actions.dtype)
            return torch.clamp(actions, low, high).numpy(), None
        components = self._logit_components(output, n)
        chosen, log_probs = [], []
        for logits in components:
            log_softmax = torch.log_softmax(logits.to(torch.float64), dim=-1)
            if bool(torch.isnan(log_softmax).any()):  # argmax would pick action 0 everywhere
                raise NonFiniteError(
                    f"module {self.name!r} returned NaN or infinite logits; cannot choose an action"
                )
            if self.deterministic:
                action = log_softmax.argmax(-1)
            else:
                action = torch.multinomial(log_softmax.exp(), 1, generator=self._generator)[:, 0]
            chosen.append(action)
            log_probs.append(log_softmax.gather(1, action[:, None])[:, 0])
        total_log_prob = torch.stack(log_probs).sum(0).to(torch.float32).numpy()
        if isinstance(space, spaces.MultiDiscrete):
            return torch.stack(chosen, dim=1).numpy().astype(np.int64), total_log_prob
        return chosen[0].numpy().astype(np.int64), total_log_prob

    def _logit_components(self, output: Any, n: int) -> list[torch.Tensor]:
        """Split the module's output into ``(n, k_i)`` logit tensors, checked against the space."""
        space = self.action_space
        if isinstance(space, spaces.MultiDiscrete):
            nvec = [int(k) for k in np.asarray(space.nvec).ravel()]
            if isinstance(output, (list, tuple)):
                parts = [_as_tensor(part, self.name) for part in output]
            else:
                tensor = _as_tensor(output, self.name)
                if tensor.ndim == 3 and tensor.shape[1:] == (len(nvec), nvec[0]):
                    parts = list(tensor.unbind(1))
                elif tensor.ndim == 2 and tensor.shape[1] == sum(nvec):
                    parts = list(tensor.split(nvec, dim=1))
                else:
                    raise ValueError(
                        f"module {self.name!r} returned shape {tuple(tensor.shape)}; for "
                        f"MultiDiscrete({nvec}) expected per-component logits: a list of (n, k_i) "
                        f"tensors, (n, {sum(nvec)}) or (n, {len(nvec)}, k)"
                    )
            shapes = [tuple(part.shape) for part in parts]
            if shapes != [(n, k) for k in nvec]:
                raise ValueError(
                    f"module {self.name!r} returned logits of shapes {shapes}, expected "
                    f"{[(n, k) for k in nvec]}"
                )
            return parts
        if isinstance(output, (list, tuple)):
            raise ValueError(
                f"module {self.name!r} returned {len(output)} tensors; a Discrete game needs one "
                "(n, k) logits tensor (for MultiDiscrete games give the action_space)"
            )
        logits = _as_tensor(output, self.name)
        expected_k = int(space.n) if isinstance(space, spaces.Discrete) else None
        if (
            logits.ndim != 2
            or logits.shape[0] != n
            or (expected_k is not None and logits.shape[1] != expected_k)
        ):
            raise ValueError(
                f"module {self.name!r} returned shape {tuple(logits.shape)}, expected logits of "
                f"shape ({n}, {expected_k if expected_k is not None else 'k'})"
            )
        return [logits]


def _as_tensor(output: Any, name: str) -> torch.Tensor:
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"module {name!r} must return a torch.Tensor, got {type(output).__name__}")
    if not output.is_floating_point():
        raise TypeError(f"module {name!r} must return float scores, got dtype {output.dtype}")
    return output.detach().cpu()


class SB3Policy(Policy):
    """A stable-baselines3 model (PPO, A2C, DQN, sb3-contrib's RecurrentPPO, ...) as a policy.

    Calls ``model.predict`` on the batch. The recurrent state that ``predict`` returns is carried
    from step to step and ``episode_starts`` is passed along, so recurrent models forget a game's
    memory when its episode restarts (non-recurrent models ignore both).

    Sampling (``deterministic=False``) uses torch's global generator inside SB3; it is re-seeded
    on every call from a stream that :meth:`reset` seeds, inside ``torch.random.fork_rng`` so the
    caller's global generator is left as it was. Results are then reproducible from the seed.

    Args:
        model: any SB3 algorithm instance (``model.predict(obs, state, episode_start,
            deterministic)``), trained on the single-agent observation and action spaces of the
            game (see :class:`agents.sb3.SB3VecEnv`).
        deterministic: take the mode of the action distribution instead of sampling.
        name: label in tables; defaults to the model's class name.

    """

    def __init__(self, model: Any, deterministic: bool = False, name: str | None = None) -> None:
        if not hasattr(model, "predict"):
            raise TypeError(f"expected a stable-baselines3 model, got {type(model).__name__}")
        self.model = model
        self.deterministic = bool(deterministic)
        own_name = getattr(model, "name", None)  # an agents.sb3.SB3PolicyModel names its algorithm
        self.name = name or (own_name if isinstance(own_name, str) else type(model).__name__)
        self._state: Any = None
        self._rng = np.random.default_rng(0)

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Forget the recurrent state; restart the sampling stream from ``seed``."""
        self._state = None
        self._rng = np.random.default_rng(seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """``model.predict`` on the batch, carrying the recurrent state."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed_from(self._rng))
            actions, self._state = self.model.predict(
                observations,
                state=self._state,
                episode_start=np.asarray(episode_starts, dtype=bool),
                deterministic=self.deterministic,
            )
        return np.asarray(actions)
