# noqa: D212, D415
"""
# Iterated matrix games (`ipd_v0`, `matrix_game_v0`)

| | |
|---|---|
| Import | `from socialdilemmas import ipd_v0` (or `matrix_game_v0`) |
| Create | `ipd_v0.parallel_env()`, `ipd_v0.env()`, `pettingzoo.make("parallel", "socialdilemmas/ipd-v0")`, `socialdilemmas.make_vec("ipd_v0", 1024)` |
| Actions | Discrete(2): 0 = cooperate (the game's first action), 1 = defect |
| Parallel API | yes (native); AEC through `parallel_to_aec` |
| Agents | `player_0`, `player_1` |
| Observation shape / values | (5,) float32 one-hot in {0, 1} |

## Description

The Iterated Prisoner's Dilemma, and its sibling 2x2 games, played for `max_cycles` rounds.
Each round both players choose at once; each is paid by the payoff table and sees what was just
played. The IPD is the model social dilemma: defecting pays more in every round, yet mutual
defection pays both less than mutual cooperation. Naive learners end up defecting
(-2 per step under the default payoffs); opponent-shaping learners find tit-for-tat-like
reciprocity (-1 per step).

`ipd_v0` offers the prisoner's-dilemma presets; `matrix_game_v0` is the same env with every
preset (matching pennies, stag hunt, chicken, battle of the sexes) and the IPD as its default.

## Observation space

A memory-one, own-perspective one-hot of the previous joint action, the observer's action
first, so that one policy can sit in either seat:

| index | meaning |
|---|---|
| 0 | CC: both played action 0 |
| 1 | CD: I played action 0, the other player action 1 |
| 2 | DC: I played action 1, the other player action 0 |
| 3 | DD: both played action 1 |
| 4 | start: first round of the episode |

## Action space

`Discrete(2)`: 0 = cooperate, 1 = defect (for other games, the first and second action of the
table: heads/tails, stag/hare, swerve/straight, opera/football).

## Rewards

Default (`payoffs="ipd"`, the LOLA convention), (reward of player_0, reward of player_1):

| | player_1 C | player_1 D |
|---|---|---|
| **player_0 C** | (-1, -1) | (-3, 0) |
| **player_0 D** | (0, -3) | (-2, -2) |

Presets (`socialdilemmas.matrix.payoffs.PRESETS`): `ipd` (above), `ipd_3051` (R=3, S=0, T=5,
P=1), `ipd_pola` (POLA's contribution factor f=1.33: CC 0.33, CD -0.335, DC 0.665, DD 0),
`matching_pennies` (player_0 +1 on a match and -1 otherwise, player_1 the negative: the LOLA
sign convention; M-FOS flips it), `stag_hunt` (SS 4, SH 1/3, HS 3/1, HH 2), `chicken`
(0, -1/1, 1/-1, -2), `chicken_meva` (Meta-Value Learning's: a crash costs -100),
`battle_of_sexes` (3/2, 0, 0, 2/3). A custom table is a `(2, 2, 2)`
array-like with `table[a0, a1] = (r0, r1)`.

## Starting state

Nothing has been played: both players observe `start`. The game has no randomness.

## Episode end

* Termination: never.
* Truncation: after `max_cycles` rounds (default 50).

## Arguments

| argument | default | meaning |
|---|---|---|
| `payoffs` | `"ipd"` | preset name or `(2, 2, 2)` table |
| `max_cycles` | 50 | rounds per episode |
| `render_mode` | None | None, `"human"` (prints) or `"ansi"` (returns text) |
| `obs_layout` | `"planes"` | `"planes"` or `"flat"`, both the `(5,)` vector; `"hwc"` raises `ValueError` (no image to make channel-last) |

```python
>>> from socialdilemmas import ipd_v0
>>> env = ipd_v0.parallel_env(max_cycles=3)
>>> observations, infos = env.reset(seed=0)
>>> observations["player_0"]
array([0., 0., 0., 0., 1.], dtype=float32)
>>> _, rewards, _, truncations, _ = env.step({"player_0": 0, "player_1": 1})
>>> rewards
{'player_0': -3.0, 'player_1': 0.0}
>>> env.step({"player_0": 1, "player_1": 1})[0]["player_1"]
array([0., 0., 0., 1., 0.], dtype=float32)

```

The exact infinite-horizon discounted values of memory-one policies are in
`socialdilemmas.matrix.exact`.

## Version history

* v0: initial release; later, without changing the default observations, the `obs_layout`
  argument (`"planes"` and `"flat"`, the same vector here).
"""

from __future__ import annotations

from socialdilemmas.core.parallel import SocialDilemmaParallelEnv
from socialdilemmas.matrix.game import MatrixGame
from socialdilemmas.matrix.payoffs import PRESETS, PRISONERS_DILEMMA_PRESETS


class MatrixGameEnv(SocialDilemmaParallelEnv):
    """Any iterated 2x2 game (PettingZoo parallel env); documented in this module's docstring.

    Args:
        payoffs: preset name or ``(2, 2, 2)`` table ``table[a0, a1] = (r0, r1)``.
        max_cycles: rounds per episode.
        render_mode: None, "human" or "ansi".
        obs_layout: ``"planes"`` (default) or ``"flat"``, both the ``(5,)`` one-hot; ``"hwc"``
            raises ``ValueError`` (there is no image).
    """

    metadata = {
        "name": "matrix_game_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": True,
    }
    variants = {name: {"payoffs": name} for name in PRESETS}

    def __init__(
        self,
        payoffs: str | object = "ipd",
        max_cycles: int = 50,
        render_mode: str | None = None,
        obs_layout: str = "planes",
    ) -> None:
        super().__init__(MatrixGame(payoffs), max_cycles, render_mode, obs_layout)


class IPDEnv(MatrixGameEnv):
    """The Iterated Prisoner's Dilemma (PettingZoo parallel env); see the module docstring.

    Args:
        payoffs: ``"ipd"`` (default, LOLA), ``"ipd_3051"``, ``"ipd_pola"`` or a custom table.
        max_cycles: rounds per episode.
        render_mode: None, "human" or "ansi".
        obs_layout: ``"planes"`` (default) or ``"flat"``, both the ``(5,)`` one-hot; ``"hwc"``
            raises ``ValueError`` (there is no image).
    """

    metadata = {"name": "ipd_v0", "render_modes": ["human", "ansi"], "is_parallelizable": True}
    variants = {name: {"payoffs": name} for name in PRISONERS_DILEMMA_PRESETS}

    def __init__(
        self,
        payoffs: str | object = "ipd",
        max_cycles: int = 50,
        render_mode: str | None = None,
        obs_layout: str = "planes",
    ) -> None:
        if isinstance(payoffs, str) and payoffs not in PRISONERS_DILEMMA_PRESETS:
            raise ValueError(
                f"ipd_v0 takes the prisoner's-dilemma presets {list(PRISONERS_DILEMMA_PRESETS)} "
                f"or a custom table, got {payoffs!r}; use matrix_game_v0 for other games"
            )
        super().__init__(payoffs, max_cycles, render_mode, obs_layout)
