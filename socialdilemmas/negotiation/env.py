# noqa: D212, D415
"""
# Negotiation Game (`negotiation_v0`)

| | |
|---|---|
| Import | `from socialdilemmas import negotiation_v0` |
| Create | `negotiation_v0.parallel_env()`, `negotiation_v0.env()` (AEC) |
| Create (registry) | `pettingzoo.make("parallel", "socialdilemmas/negotiation-v0")` |
| Create (vector) | `socialdilemmas.make_vec("negotiation_v0", num_envs=1024)` |
| Actions | `MultiDiscrete([6, 6, 6])` claims per item; `continuous=True`: `Box(0, 5, (3,))` |
| Parallel API | yes (native: proposals are simultaneous); AEC through `parallel_to_aec` |
| Agents | `player_0`, `player_1` |
| Observation shape / values | (15,) float32 in [0, 1] |

## Description

The social-dilemma Negotiation Game of Advantage Alignment (Duque et al.), played for
`max_cycles` rounds. Each round a pool of 3 item types is on the table (one unit of each by
default) and each item is worth 5 to one player and 1 to the other, drawn afresh for every item
and every round. Both players see both value vectors and claim, at the same time, between 0 and 5
of every item. Where the two claims on an item add up to at most 5, each player receives
claim / 5 of it (the rest is wasted); where they add up to more, the item is split in proportion
to the claims.

It is a social dilemma with the structure of the Coin Game: on an item it values at 1, a player
who claims 5 instead of 0 against a cooperative claim of 5 gains 0.5/15 and costs the other
player 2.5/15. Scripted references (`socialdilemmas.negotiation.strategies`): always-cooperate
(claim 5 where my value is higher, 0 where it is lower) earns 0.5 per round against itself,
always-defect (claim 5 everywhere) 0.3 against itself, and 0.25 against 0.55 when the two meet.

## Agents

`player_0` and `player_1`, symmetric: each observation is from its owner's side, so one policy
can sit in either seat.

## Observation space

`Box(0, 1, (15,), float32)`, the raw numbers divided by 10, observer first:

| index | meaning |
|---|---|
| 0-2 | item pool of the upcoming round |
| 3-5 | my values of the upcoming round |
| 6-8 | my claims in the round just played (0 at the start) |
| 9-11 | the other player's values of the upcoming round |
| 12-14 | the other player's claims in the round just played (0 at the start) |

## Action space

One claim per item type, each in [0, 5]: `MultiDiscrete([6, 6, 6])` (integers, the default) or,
with `continuous=True`, `Box(0, 5, (3,), float32)`. A continuous claim outside [0, 5] or NaN is
an error (`ValueError`), not silently clipped; clip in the policy if it can overshoot
(`numpy.clip(a, 0, 5)`, or PettingZoo's `ClipOutOfBoundsWrapper` on the AEC env).

## Rewards

With `prop_mode="divide_when_above"` (default), pool `p`, values `u_i` and claims `c_i`:

    share_i[j] = c_i[j] / max(c_0[j] + c_1[j], 5)
    r_i = sum_j share_i[j] * p[j] * u_i[j] / 15

With `prop_mode="proportion"`, `share_i[j] = c_i[j] / (c_0[j] + c_1[j])` (0 when both claim 0;
the original code adds 1e-8 to the denominator, a relative difference below 1e-8 left out here).

Example round (values p0 [5, 1, 5], p1 [1, 5, 1], default split):

| claims p0 | claims p1 | r0 | r1 |
|---|---|---|---|
| [5, 0, 5] | [0, 5, 0] | 10/15 | 5/15 |
| [5, 5, 5] | [5, 5, 5] | 5.5/15 | 3.5/15 |
| [5, 5, 5] | [0, 5, 0] | 10.5/15 | 2.5/15 |
| [2, 0, 0] | [1, 0, 0] | 2/15 | 0.2/15 |

The best joint reward of a round is `max_welfare = sum_j max(u_0[j], u_1[j]) * p[j] / 15`
(1.0 in every high-contrast round); rewards are non-negative and `r0 + r1 <= max_welfare`.

## Info

Each step's info describes the round just played. Per agent (own-first): `round` (its number,
from 1), `round_done` (always True), `pool`, `utilities`, `other_utilities`, `proposal`,
`other_proposal`, `share`, `other_share` (the fraction of each item received) and
`max_welfare`. The vector env returns the same as batched arrays in player order: `pool`
(n, 3), `utilities`, `proposals`, `shares` (n, 2, 3), `max_welfare` and `round` (n,); e.g. the
fraction of the best joint reward achieved is `rewards.sum(1) / info["max_welfare"]`.

## Starting state

The first round's pool and values are drawn (seeded by `reset(seed=...)`); no claims have been
made, so the claim entries of the first observation are 0.

`sampling` chooses how each round is drawn:

| sampling | pool | values |
|---|---|---|
| `high_contrast` (default, the paper's) | [1, 1, 1] | u0[j] in {1, 5} uniform, u1[j] = 6 - u0[j] |
| `uniform` | each in 1..5 uniform | each in 1..5 uniform, both players independently |
| `no_sampling` | [4, 4, 4] | u0 = [10, 3, 2], u1 = [3, 10, 2] |
| `high_contrast_no_sampling` | [1, 1, 1] | u0 = [5, 5, 1], u1 = [1, 1, 5] |

## Episode end

* Termination: never. Every step is a complete round; its end is reported as
  `info["round_done"]`, not as a termination, so recurrent policies keep their state across
  rounds (the original trainer ignores the per-round `done` too).
* Truncation: after `max_cycles` rounds (default 50). The final observation shows the values of
  a freshly drawn next round, as if the game went on.

## Arguments

| argument | default | meaning |
|---|---|---|
| `sampling` | `"high_contrast"` | how pool and values are drawn (table above) |
| `prop_mode` | `"divide_when_above"` | how claims become shares: or `"proportion"` |
| `continuous` | False | float claims `Box(0, 5, (3,))` instead of integers 0..5 |
| `max_cycles` | 50 | rounds per episode |
| `render_mode` | None | None, `"human"` (prints) or `"ansi"` (returns text) |
| `obs_layout` | `"planes"` | `"planes"` or `"flat"`, both the `(15,)` vector; `"hwc"` raises `ValueError` (no image to make channel-last) |

```python
>>> from socialdilemmas import negotiation_v0
>>> env = negotiation_v0.parallel_env(sampling="high_contrast_no_sampling", max_cycles=2)
>>> observations, infos = env.reset(seed=0)
>>> print(observations["player_0"] * 10)  # pool, my values, my claims, theirs
[1. 1. 1. 5. 5. 1. 0. 0. 0. 1. 1. 5. 0. 0. 0.]
>>> actions = {"player_0": [5, 5, 0], "player_1": [5, 5, 5]}
>>> _, rewards, terminations, truncations, infos = env.step(actions)
>>> rewards
{'player_0': 0.3333333333333333, 'player_1': 0.4}
>>> infos["player_1"]["share"], infos["player_1"]["max_welfare"]
(array([0.5, 0.5, 1. ]), 1.0)
>>> truncations
{'player_0': False, 'player_1': False}

```

`examples/negotiation_scripted.py` plays the scripted strategies against each other on the
vector env and prints their rewards and welfare shares.

## Version history

* v0: initial release; later, without changing the default observations, the `obs_layout`
  argument (`"planes"` and `"flat"`, the same vector here).
"""  # noqa: D400

from __future__ import annotations

from typing import Any, ClassVar

from socialdilemmas.core.parallel import SocialDilemmaParallelEnv
from socialdilemmas.negotiation.game import NegotiationGame


class NegotiationEnv(SocialDilemmaParallelEnv):
    """The Negotiation Game (PettingZoo parallel env); documented in this module's docstring.

    Args:
        sampling: ``"high_contrast"`` (default), ``"uniform"``, ``"no_sampling"`` or
            ``"high_contrast_no_sampling"``.
        prop_mode: ``"divide_when_above"`` (default) or ``"proportion"``.
        continuous: float claims in ``Box(0, 5, (3,))`` instead of ``MultiDiscrete([6, 6, 6])``.
        max_cycles: rounds per episode.
        render_mode: None, "human" or "ansi".
        obs_layout: ``"planes"`` (default) or ``"flat"``, both the ``(15,)`` vector; ``"hwc"``
            raises ``ValueError`` (there is no image).

    """

    metadata = {
        "name": "negotiation_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": True,
    }
    variants: ClassVar[dict[str, dict[str, Any]]] = {
        "default": {},
        "continuous": {"continuous": True},
    }

    def __init__(
        self,
        sampling: str = "high_contrast",
        prop_mode: str = "divide_when_above",
        continuous: bool = False,
        max_cycles: int = 50,
        render_mode: str | None = None,
        obs_layout: str = "planes",
    ) -> None:
        super().__init__(
            NegotiationGame(sampling, prop_mode, continuous), max_cycles, render_mode, obs_layout
        )
