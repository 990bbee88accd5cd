# noqa: D212, D415
"""
# Coin Game (`coin_game_v0`)

| | |
|---|---|
| Import | `from socialdilemmas import coin_game_v0` |
| Create | `coin_game_v0.parallel_env()`, `coin_game_v0.env()`, `pettingzoo.make("parallel", "socialdilemmas/coin_game-v0")`, `socialdilemmas.make_vec("coin_game_v0", 8192)` |
| Actions | Discrete(4): 0 right, 1 left, 2 down, 3 up; Discrete(5) with `rules="pax"` (4 = stay) |
| Parallel API | yes (native); AEC through `parallel_to_aec` |
| Agents | `player_0` (red), `player_1` (blue) |
| Observation shape / values | (4, grid_size, grid_size) float32 in {0, 1}; `obs_layout="hwc"`: (grid_size, grid_size, 4), `"flat"`: (4 grid_size²,) |

## Description

Two players walk on a small square board whose edges wrap around (a torus) and collect coins.
A coin has an owner: whoever collects a coin gets +1, and if it was the other player's coin,
its owner loses 2. Grabbing every coin pays more for oneself, but when both players do it each
gets less than when each collects only its own coins: a spatial, temporally extended social
dilemma (Lerer & Peysakhovich 2017, popularised by LOLA, Foerster et al. 2018). Naive learners
learn to grab everything; opponent-shaping learners (LOLA, POLA, LOQA, Advantage Alignment)
learn to leave the other player's coins alone.

The default rules (`rules="loqa"`) are those of the LOQA/POLA family, the version the LOQA and
Advantage Alignment leagues play: a 3x3 board and **one coin at a time**. The first coin's
owner is drawn at random; each time the coin is collected, the next coin belongs to the other
player and appears uniformly at random on a cell that no player occupies.

`rules="pax"` gives the PAX/JaxMARL variant instead; see below.

## Agents

`player_0` (red) and `player_1` (blue), who move at the same time. They may share a cell,
including at the start.

## Observation space

`Box(0, 1, (4, grid_size, grid_size), float32)`: four one-hot planes from the observer's side,
so that one policy can play either seat (`player_1` sees the board with red and blue swapped):

| plane | one-hot position of |
|---|---|
| 0 | me |
| 1 | the other player |
| 2 | my coin (all zeros if the coin on the board is the other player's) |
| 3 | the other player's coin |

Under the default rules planes 2 and 3 hold exactly one coin between them. Indices are
`[plane, row, column]`, row 0 at the top. With `egocentric=True` the board is shifted
(wrapping around) so that "me" is always at `(grid_size // 2, grid_size // 2)`.

`obs_layout` gives the same numbers in another order, for clients whose default networks
expect it (RLlib's and AgileRL's CNNs read height x width x channels):

| `obs_layout` | shape | equals |
|---|---|---|
| `"planes"` (default) | `(4, g, g)` | the planes above, `[plane, row, column]` |
| `"flat"` | `(4 g g,)` | `planes.reshape(-1)`, channel-major (the LOQA/POLA flattening) |
| `"hwc"` | `(g, g, 4)` | `np.moveaxis(planes, 0, -1)`, `[row, column, plane]` (PAX's order) |

The observation space (and the global `state()`) follow the layout; so does `make_vec(...,
obs_layout=...)`. The scripted strategies and the `agents` learners read the planes.

## Action space

`Discrete(4)`, the LOLA/POLA move table (LOQA numbers the same moves 0 left, 1 right, 2 up,
3 down):

| action | move | (row, column) change |
|---|---|---|
| 0 | right | (0, +1) |
| 1 | left | (0, -1) |
| 2 | down | (+1, 0) |
| 3 | up | (-1, 0) |
| 4 | stay (`rules="pax"` only) | (0, 0) |

Moves wrap around the edges.

## Rewards

After both players move, every player standing on a coin collects it:

| event | collector | coin's owner |
|---|---|---|
| a player collects its own coin | +1 | |
| a player collects the other player's coin | +1 | -2 |
| both step onto player_0's coin at once | player_0: +1 - 2 = -1 | player_1: +1 |
| a step without a pickup | 0 | 0 |

So the two rewards of a step sum to (number of pickups) - 2 x (pickups of a coin by the player
who does not own it). `payoffs=(own, other, penalty)` changes the three numbers (default
`(1, 1, -2)`).

Per-step `info` of each agent (PettingZoo), for the metrics of the literature (own-coin share,
"same/different colour" counts):

| key | meaning on this step |
|---|---|
| `own_coin_pickups` | coins of mine that I collected |
| `other_coin_pickups` | coins of the other player that I collected |
| `own_coin_taken_by_other` | coins of mine that the other player collected |

The vector env returns `info["pickups"]`, an `(num_envs, 2, 2)` int64 array whose entry
`[env, picker, owner]` counts the coins of seat `owner` that seat `picker` collected on the step.

## Starting state

Each player on a uniformly random cell (independently: they may share a cell), a coin owner
drawn uniformly, and the coin on a uniformly random cell that no player occupies. Every draw
comes from the env's seeded stream: `reset(seed=s)` always gives the same board, and sub-env
`i` of `make_vec(..., seed=s)` plays exactly like a single env reset with `seed=s + i`.

## Episode end

* Termination: never.
* Truncation: after `max_cycles` steps (default 50, as in POLA and LOQA).

## Scripted strategies

`socialdilemmas.coin_game.strategies` holds the move rules of LOQA's scripted agents, batched
over own-perspective observations: `always_defect` steps toward the coin, `always_cooperate`
toward its own coin and away from the other's; ties are broken by the caller's NumPy
generator. `examples/coin_game_scripted.py` plays them against each other.

## The PAX/JaxMARL variant (`rules="pax"`)

`rules="pax"` reproduces the coin game of PAX and JaxMARL (as used by M-FOS-style meta-learning
and the Shaper line of work) with payoff matrix `[[1, 1, -2], [1, 1, -2]]`:

* a red coin (owned by player_0) and a blue coin (owned by player_1) are always on the board;
* 5 actions, action 4 = stay;
* at reset the players and both coins are placed independently and uniformly over all cells,
  and a collected coin respawns uniformly over **all** cells, so a coin may appear under a player
  (staying then collects it) or on the other coin;
* a player stepping onto a cell holding both coins collects both (+2, and -2 for the other);
  both players on one coin: owner -1, other +1, as above;
* `egocentric=True` (used by the PAX configs) re-centres the board on the observer.

Where we deliberately differ from PAX/JaxMARL:

* PAX zeroes both rewards on the last step of an inner episode and returns the next episode's
  first observation on that step, so an episode of `num_inner_steps=16` has 15 rewarded
  steps. Here every step is paid, the last one included, and episodes end by truncation after
  `max_cycles` steps exactly as in the other games (the vector env returns the last observation
  in `info["final_observation"]`). With `max_cycles=16` an episode has as many steps as PAX's
  `num_inner_steps=16`, all 16 of them paid.
* Observations are channel-first `(4, g, g)` by default; PAX's are `(g, g, 4)`, which
  `obs_layout="hwc"` gives.
* PAX's cooperation counters (`red_coop`, `blue_defect`, ...) are the `pickups` counts.
* PAX hard-codes a 3x3 board; any `grid_size` works here (egocentric centre `grid_size // 2`).

## Arguments

| argument | default | meaning |
|---|---|---|
| `grid_size` | 3 | side of the board, 2 to 1024 |
| `max_cycles` | 50 | steps per episode |
| `rules` | `"loqa"` | `"loqa"` (one alternating coin) or `"pax"` (two coins, stay action) |
| `egocentric` | False | re-centre each observation on the observer |
| `payoffs` | `(1, 1, -2)` | reward for collecting my coin, for collecting the other's coin, and to the owner when the other collects its coin |
| `render_mode` | None | None, `"human"` (prints), `"ansi"` (returns text) or `"rgb_array"` (returns a `(32 g, 32 g, 3)` uint8 image) |
| `obs_layout` | `"planes"` | `"planes"` `(4, g, g)`, `"flat"` `(4 g g,)` or `"hwc"` `(g, g, 4)` (table above) |

```python
>>> from socialdilemmas import coin_game_v0
>>> env = coin_game_v0.parallel_env(max_cycles=10, render_mode="ansi")
>>> observations, infos = env.reset(seed=3)
>>> print(env.render())
step 0
.  .  .
.  .  B
R  b  .
last rewards: player_0 0, player_1 0
>>> observations["player_0"][1]  # where player_1 stands, as player_0 sees it
array([[0., 0., 0.],
       [0., 0., 1.],
       [0., 0., 0.]], dtype=float32)
>>> _, rewards, _, truncations, infos = env.step({"player_0": 0, "player_1": 3})
>>> rewards  # player_0 stepped right onto player_1's coin
{'player_0': 1.0, 'player_1': -2.0}
>>> infos["player_0"]
{'own_coin_pickups': 0, 'other_coin_pickups': 1, 'own_coin_taken_by_other': 0}
>>> hwc = coin_game_v0.parallel_env(obs_layout="hwc")
>>> hwc.observation_space("player_0").shape
(3, 3, 4)
>>> first, _ = hwc.reset(seed=3)  # the board above, channel-last: [row, column, plane]
>>> bool((first["player_0"][:, :, 1] == observations["player_0"][1]).all())
True

```

## Version history

* v0: initial release; later, without changing the default observations, the `obs_layout`
  argument (`"planes"`, `"flat"`, `"hwc"`).
"""  # noqa: D400, E501  (a documentation page: a title line and wide tables)

from __future__ import annotations

from collections.abc import Sequence

from socialdilemmas.coin_game.game import DEFAULT_PAYOFFS, CoinGame
from socialdilemmas.core.parallel import SocialDilemmaParallelEnv


class CoinGameEnv(SocialDilemmaParallelEnv):
    """The Coin Game (PettingZoo parallel env); documented in this module's docstring.

    Args:
        grid_size: side of the square torus, at least 2.
        max_cycles: steps per episode.
        rules: ``"loqa"`` (default) or ``"pax"``.
        egocentric: re-centre each observation on the observer.
        payoffs: ``(own coin, other's coin, penalty to the owner)``.
        render_mode: None, "human", "ansi" or "rgb_array".
        obs_layout: ``"planes"`` (default, ``(4, g, g)``), ``"flat"`` (``(4 g g,)``) or
            ``"hwc"`` (``(g, g, 4)``).

    """

    metadata = {
        "name": "coin_game_v0",
        "render_modes": ["human", "ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    variants = {
        "default": {},
        "pax": {"rules": "pax", "egocentric": True},  # as in the PAX configs
        "grid_5": {"grid_size": 5},
    }

    def __init__(
        self,
        grid_size: int = 3,
        max_cycles: int = 50,
        rules: str = "loqa",
        egocentric: bool = False,
        payoffs: Sequence[float] = DEFAULT_PAYOFFS,
        render_mode: str | None = None,
        obs_layout: str = "planes",
    ) -> None:
        super().__init__(
            CoinGame(grid_size=grid_size, rules=rules, egocentric=egocentric, payoffs=payoffs),
            max_cycles,
            render_mode,
            obs_layout,
        )
