"""Coin Game rules, observations, seeding, arguments and rendering.

Episode-boundary semantics tested here: an episode is ``max_cycles`` steps; the last step is
paid like any other (unlike PAX/JaxMARL, which zero it) and reported as a truncation, never a
termination; the vector env starts the next episode in the same ``step`` call and returns the
last observation in ``info["final_observation"]``.

Boards are hand-written into the state array (``CoinGame.set_board``); the test vectors are
worked out by hand from the rules of the single-coin game (LOQA's ``coin_game.py``,
``MiladInk/loqa@32f50c9``) and of PAX's two-coin variant (``ucl-dark/pax``
``pax/envs/coin_game.py``).
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import api_test, parallel_api_test

import socialdilemmas
from socialdilemmas import coin_game_v0
from socialdilemmas._rng import seed_streams
from socialdilemmas.coin_game.game import CoinGame

# ---- helpers ---------------------------------------------------------------------------------

MOVES = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0), 4: (0, 0)}


def batch(n: int = 1, seed: int = 0, **kwargs):
    """A game and a seeded batch of ``n`` copies (sub-env ``i`` seeded ``seed + i``)."""
    game = CoinGame(**kwargs)
    state, rng, buffers = game.allocate(n)
    envs = np.arange(n, dtype=np.int64)
    seed_streams(rng, envs, np.arange(seed, seed + n, dtype=np.uint64))
    game.reset_envs(state, rng, envs, buffers)
    return game, state, rng, buffers


def step(game, state, rng, buffers, actions, max_cycles=50, autoreset=False):
    """Step every game with ``actions`` (``(2,)`` for all games, or ``(n, 2)``)."""
    actions = np.broadcast_to(np.asarray(actions, dtype=np.int64), (state.shape[0], 2)).copy()
    assert game.step_envs(state, rng, actions, max_cycles, autoreset, buffers) == -1


def reference_move(board, actions, g, payoffs=(1.0, 1.0, -2.0)):
    """Positions, rewards and pickups after one step, by the rules as written in the spec.

    Returns ``(players, rewards, pickups, collected)`` where ``collected[k]`` says whether coin
    ``k`` was collected (the kernel then respawns it; the reference does not draw).
    """
    own, other, penalty = payoffs
    players = []
    for (r, c), a in zip(board.players, actions, strict=True):
        dr, dc = MOVES[int(a)]
        players.append(((r + dr) % g, (c + dc) % g))
    rewards = [0.0, 0.0]
    pickups = np.zeros((2, 2), dtype=np.int64)
    collected = []
    for r, c, owner in board.coins:
        takers = [seat for seat in range(2) if players[seat] == (r, c)]
        for seat in takers:
            pickups[seat, owner] += 1
            if seat == owner:
                rewards[seat] += own
            else:
                rewards[seat] += other
                rewards[owner] += penalty
        collected.append(bool(takers))
    return players, rewards, pickups, collected


def expected_observation(board, g, egocentric=False):
    """Both seats' observations of ``board``, built the slow, obvious way."""
    obs = np.zeros((2, 4, g, g), dtype=np.float32)
    for seat in range(2):
        me = board.players[seat]
        shift = ((g // 2 - me[0]), (g // 2 - me[1])) if egocentric else (0, 0)

        def put(plane, r, c, seat=seat, shift=shift):
            obs[seat, plane, (r + shift[0]) % g, (c + shift[1]) % g] = 1.0

        put(0, *board.players[seat])
        put(1, *board.players[1 - seat])
        for r, c, owner in board.coins:
            put(2 if owner == seat else 3, r, c)
    return obs


def free_cells(g, players):
    """Cells that no player occupies."""
    return {(r, c) for r in range(g) for c in range(g)} - set(map(tuple, players))


def assert_uniform(cells, support, n):
    """Every draw lies in ``support`` and each cell's count is within 5 sd of uniform."""
    counts = {cell: 0 for cell in support}
    for cell in cells:
        assert cell in counts, f"coin landed on {cell}, outside {sorted(support)}"
        counts[cell] += 1
    p = 1.0 / len(support)
    sd = np.sqrt(n * p * (1 - p))
    for cell, count in counts.items():
        assert abs(count - n * p) < 5 * sd, f"cell {cell}: {count} draws, expected {n * p:.0f}"


# ---- 5.1: single-coin rules (LOQA/POLA family) --------------------------------------------------

# (id, players before, coin (row, col, owner), actions, players after, rewards,
#  pickups[picker][owner])
VECTORS_51 = [
    (
        "C1 own coin",
        ((0, 0), (2, 2)),
        (0, 1, 0),
        (0, 1),
        ((0, 1), (2, 1)),
        (1.0, 0.0),
        [[1, 0], [0, 0]],
    ),
    (
        "C2 steal",
        ((1, 0), (2, 2)),
        (1, 1, 1),
        (0, 3),
        ((1, 1), (1, 2)),
        (1.0, -2.0),
        [[0, 1], [0, 0]],
    ),
    (
        "C3 tie on red coin",
        ((1, 0), (0, 1)),
        (1, 1, 0),
        (0, 2),
        ((1, 1), (1, 1)),
        (-1.0, 1.0),
        [[1, 0], [1, 0]],
    ),
    (
        "C4 tie on blue coin",
        ((1, 0), (0, 1)),
        (1, 1, 1),
        (0, 2),
        ((1, 1), (1, 1)),
        (1.0, -1.0),
        [[0, 1], [0, 1]],
    ),
]


@pytest.mark.parametrize(
    "players, coin, actions, after, rewards, pickups",
    [v[1:] for v in VECTORS_51],
    ids=[v[0] for v in VECTORS_51],
)
def test_single_coin_vectors(players, coin, actions, after, rewards, pickups):
    game, state, rng, buffers = batch()
    game.set_board(state, 0, players, [coin], step=3)
    step(game, state, rng, buffers, actions)
    board = game.board(state, 0)
    assert board.players == after
    assert buffers.rewards[0].tolist() == list(rewards)
    assert buffers.info["pickups"][0].tolist() == pickups
    assert board.step == 4
    ((coin_r, coin_c, owner),) = board.coins
    assert owner == 1 - coin[2], "the next coin belongs to the other player"
    assert (coin_r, coin_c) not in after


@pytest.mark.parametrize(
    "players, coin, actions, after",
    [
        (VECTORS_51[0][1], VECTORS_51[0][2], VECTORS_51[0][3], VECTORS_51[0][4]),
        (VECTORS_51[2][1], VECTORS_51[2][2], VECTORS_51[2][3], VECTORS_51[2][4]),
    ],
    ids=["C1: 7 free cells", "C3: 8 free cells"],
)
def test_respawn_is_uniform_over_free_cells(players, coin, actions, after):
    n = 7000
    game, state, rng, buffers = batch(n, seed=123)
    for env in range(n):
        game.set_board(state, env, players, [coin])
    step(game, state, rng, buffers, actions)
    coins = state[:, 5:7]
    new_cells = [tuple(cell) for cell in coins.tolist()]
    assert_uniform(new_cells, free_cells(3, after), n)
    assert set(state[:, 7].tolist()) == {1 - coin[2]}


@pytest.mark.parametrize(
    "start, action, end",
    [((0, 2), 0, (0, 0)), ((0, 0), 3, (2, 0)), ((2, 1), 2, (0, 1)), ((1, 0), 1, (1, 2))],
    ids=["right", "up", "down", "left"],
)
def test_c5_moves_wrap_around(start, action, end):
    game, state, rng, buffers = batch()
    # the coin at (2, 2) is on no path here
    game.set_board(state, 0, [start, (1, 1)], [(2, 2, 0)])
    step(game, state, rng, buffers, (action, 0))
    assert game.board(state, 0).players[0] == end
    game.set_board(state, 0, [(1, 1), start], [(2, 2, 1)])
    step(game, state, rng, buffers, (0, action))
    assert game.board(state, 0).players[1] == end


def test_c6_players_may_share_a_cell():
    game, state, rng, buffers = batch()
    game.set_board(state, 0, [(0, 0), (0, 2)], [(2, 2, 0)])
    step(game, state, rng, buffers, (0, 1))
    board = game.board(state, 0)
    assert board.players == ((0, 1), (0, 1))
    assert buffers.rewards[0].tolist() == [0.0, 0.0]
    assert board.coins == ((2, 2, 0),)


@pytest.mark.parametrize("owner", [0, 1])
def test_c7_no_pickup_leaves_the_coin_alone(owner):
    game, state, rng, buffers = batch()
    game.set_board(state, 0, [(0, 0), (1, 1)], [(2, 2, owner)])
    for actions in [(0, 1), (2, 3), (1, 0)]:
        before = game.board(state, 0)
        step(game, state, rng, buffers, actions)
        board = game.board(state, 0)
        players, rewards, pickups, collected = reference_move(before, actions, 3)
        assert not any(collected)
        assert board.players == tuple(players)
        assert board.coins == ((2, 2, owner),)
        assert buffers.rewards[0].tolist() == [0.0, 0.0]
        assert buffers.info["pickups"][0].tolist() == [[0, 0], [0, 0]]


def test_observation_vectors():
    """5.1: red (0,0), blue (2,2), blue's coin at (1,1); flattened channel-major."""
    game, state, rng, buffers = batch()
    game.set_board(state, 0, [(0, 0), (2, 2)], [(1, 1, 1)], buffers=buffers)
    obs = buffers.observations[0]
    assert obs.dtype == np.float32 and obs.shape == (2, 4, 3, 3)
    assert set(np.flatnonzero(obs[0].reshape(-1)).tolist()) == {0, 17, 31}
    assert set(np.flatnonzero(obs[1].reshape(-1)).tolist()) == {8, 9, 22}
    assert obs[0, 3, 1, 1] == 1 and obs[1, 2, 1, 1] == 1  # other's coin / own coin
    assert obs.sum() == 6


def test_reset_distribution():
    """Players independent and uniform (they may share a cell), owner fair, coin on a free cell."""
    n = 9000
    game, state, rng, buffers = batch(n, seed=5)
    p0 = [tuple(x) for x in state[:, 1:3].tolist()]
    p1 = [tuple(x) for x in state[:, 3:5].tolist()]
    coins = [tuple(x) for x in state[:, 5:7].tolist()]
    cells = {(r, c) for r in range(3) for c in range(3)}
    assert_uniform(p0, cells, n)
    assert_uniform(p1, cells, n)
    shared = sum(a == b for a, b in zip(p0, p1, strict=True))
    assert abs(shared - n / 9) < 5 * np.sqrt(n / 9)
    assert all(coin not in (a, b) for coin, a, b in zip(coins, p0, p1, strict=True))
    owners = state[:, 7]
    assert set(owners.tolist()) == {0, 1}
    assert abs(owners.mean() - 0.5) < 5 * 0.5 / np.sqrt(n)
    assert state[:, 0].tolist() == [0] * n
    for env in range(0, n, 997):
        expected = expected_observation(game.board(state, env), 3)
        np.testing.assert_array_equal(buffers.observations[env], expected)


def test_stay_is_not_an_action_of_the_default_rules():
    game, state, rng, buffers = batch()
    actions = np.array([[0, 4]], dtype=np.int64)
    before = state.copy()
    assert game.step_envs(state, rng, actions, 50, False, buffers) == 1
    np.testing.assert_array_equal(state, before)


def test_bad_action_changes_nothing_in_the_batch():
    game, state, rng, buffers = batch(5, seed=2)
    actions = np.zeros((5, 2), dtype=np.int64)
    actions[3, 0] = -1
    before = (state.copy(), rng.copy(), buffers.observations.copy())
    assert game.step_envs(state, rng, actions, 50, True, buffers) == 6
    np.testing.assert_array_equal(state, before[0])
    np.testing.assert_array_equal(rng, before[1])
    np.testing.assert_array_equal(buffers.observations, before[2])


# ---- 5.2: PAX / JaxMARL two-coin variant ---------------------------------------------------------


def test_pax_move():
    """PAX test_coingame_move: both move left onto their own coins."""
    game, state, rng, buffers = batch(rules="pax")
    game.set_board(state, 0, [(0, 0), (1, 0)], [(0, 2, 0), (1, 2, 1)])
    step(game, state, rng, buffers, (1, 1))
    board = game.board(state, 0)
    assert board.players == ((0, 2), (1, 2))
    assert buffers.rewards[0].tolist() == [1.0, 1.0]
    # PAX's red_coop = blue_coop = 1: each collected its own coin
    assert buffers.info["pickups"][0].tolist() == [[1, 0], [0, 1]]
    assert [owner for _, _, owner in board.coins] == [0, 1], "coin colours never change"
    # the next identical step pays whatever the respawned coins under the new cells give
    players, rewards, pickups, _ = reference_move(board, (1, 1), 3)
    step(game, state, rng, buffers, (1, 1))
    assert game.board(state, 0).players == tuple(players)
    assert buffers.rewards[0].tolist() == rewards
    assert buffers.info["pickups"][0].tolist() == pickups.tolist()


def test_pax_egocentric_observation():
    """PAX test_coingame_egocentric_pos."""
    game, state, rng, buffers = batch(rules="pax", egocentric=True)
    game.set_board(state, 0, [(1, 2), (2, 2)], [(2, 2, 0), (0, 0, 1)])
    step(game, state, rng, buffers, (1, 1))
    assert game.board(state, 0).players == ((1, 1), (2, 1))
    assert buffers.rewards[0].tolist() == [0.0, 0.0]
    obs = buffers.observations[0]

    def ones(seat, plane):
        return [tuple(x) for x in np.argwhere(obs[seat, plane]).tolist()]

    assert [ones(0, p) for p in range(4)] == [[(1, 1)], [(2, 1)], [(2, 2)], [(0, 0)]]
    assert [ones(1, p) for p in range(4)] == [[(1, 1)], [(0, 1)], [(2, 0)], [(1, 2)]]


def test_pax_stay():
    game, state, rng, buffers = batch(rules="pax")
    game.set_board(state, 0, [(0, 0), (2, 1)], [(1, 1, 0), (1, 2, 1)], step=4)
    step(game, state, rng, buffers, (4, 4))
    board = game.board(state, 0)
    assert board.players == ((0, 0), (2, 1))
    assert board.step == 5
    assert buffers.rewards[0].tolist() == [0.0, 0.0]


def test_pax_stay_collects_a_coin_that_spawned_underneath():
    game, state, rng, buffers = batch(rules="pax")
    game.set_board(state, 0, [(0, 0), (2, 1)], [(1, 1, 0), (2, 1, 0 + 1)])
    step(game, state, rng, buffers, (4, 4))
    assert buffers.rewards[0].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "coins, rewards",
    [([(1, 1, 0), (0, 0, 1)], [-1.0, 1.0]), ([(0, 0, 0), (1, 1, 1)], [1.0, -1.0])],
    ids=["red coin", "blue coin"],
)
def test_pax_both_on_one_coin(coins, rewards):
    game, state, rng, buffers = batch(rules="pax")
    game.set_board(state, 0, [(1, 0), (0, 1)], coins)
    step(game, state, rng, buffers, (0, 2))
    assert buffers.rewards[0].tolist() == rewards


def test_pax_cell_with_both_coins():
    game, state, rng, buffers = batch(rules="pax")
    game.set_board(state, 0, [(1, 0), (2, 2)], [(1, 1, 0), (1, 1, 1)])
    step(game, state, rng, buffers, (0, 4))
    assert buffers.rewards[0].tolist() == [2.0, -2.0]
    assert buffers.info["pickups"][0].tolist() == [[1, 1], [0, 0]]


@pytest.mark.parametrize("rules", ["loqa", "pax"])
def test_last_step_is_paid(rules):
    """Deliberate difference from PAX/JaxMARL: the last step's reward is not zeroed."""
    game, state, rng, buffers = batch(rules=rules)
    coins = [(1, 1, 0)] if rules == "loqa" else [(1, 1, 0), (2, 2, 1)]
    game.set_board(state, 0, [(1, 0), (0, 0)], coins, step=9)
    step(game, state, rng, buffers, (0, 1), max_cycles=10, autoreset=True)
    assert buffers.truncated[0]
    assert buffers.rewards[0].tolist() == [1.0, 0.0]
    assert game.board(state, 0).step == 0, "auto-reset started the next episode"
    assert buffers.final_observations[0, 0, 0, 1, 1] == 1.0, "final obs shows the last move"


def test_pax_respawn_is_uniform_over_all_cells():
    n = 9000
    game, state, rng, buffers = batch(n, seed=7, rules="pax")
    for env in range(n):
        game.set_board(state, env, [(0, 0), (2, 2)], [(0, 1, 0), (1, 1, 1)])
    step(game, state, rng, buffers, (0, 4))
    cells = {(r, c) for r in range(3) for c in range(3)}
    assert_uniform([tuple(x) for x in state[:, 5:7].tolist()], cells, n)
    assert (state[:, 8:10] == [1, 1]).all(), "the blue coin was not collected and stays"


def test_pax_reset_places_everything_independently():
    n = 9000
    game, state, rng, buffers = batch(n, seed=9, rules="pax")
    cells = {(r, c) for r in range(3) for c in range(3)}
    for columns in [(1, 3), (3, 5), (5, 7), (8, 10)]:
        assert_uniform([tuple(x) for x in state[:, slice(*columns)].tolist()], cells, n)
    assert (state[:, 7] == 0).all() and (state[:, 10] == 1).all()
    on_player = (state[:, 5:7] == state[:, 1:3]).all(axis=1)
    assert abs(on_player.sum() - n / 9) < 5 * np.sqrt(n / 9)


# ---- properties over random play --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    grid_size=st.integers(2, 5),
    rules=st.sampled_from(["loqa", "pax"]),
    egocentric=st.booleans(),
    max_cycles=st.integers(1, 9),
    data=st.data(),
)
def test_random_play_follows_the_rules(seed, grid_size, rules, egocentric, max_cycles, data):
    game, state, rng, buffers = batch(
        seed=seed, grid_size=grid_size, rules=rules, egocentric=egocentric
    )
    g = grid_size
    num_actions = 4 if rules == "loqa" else 5
    actions_seq = data.draw(
        st.lists(
            st.tuples(st.integers(0, num_actions - 1), st.integers(0, num_actions - 1)),
            min_size=1,
            max_size=25,
        )
    )
    space = game.observation_space

    def check_board_and_obs(board, obs):
        assert obs.dtype == np.float32 and obs.shape == (2, *space.shape)
        assert space.contains(obs[0]) and space.contains(obs[1])
        assert set(np.unique(obs).tolist()) <= {0.0, 1.0}
        np.testing.assert_array_equal(obs, expected_observation(board, g, egocentric))
        sums = obs.sum(axis=(2, 3))
        assert (sums[:, 0] == 1).all() and (sums[:, 1] == 1).all()
        if rules == "loqa":
            assert len(board.coins) == 1
            assert (sums[:, 2] + sums[:, 3] == 1).all()
            coin = board.coins[0][:2]
            assert coin not in board.players, "a coin never sits under a player"
        else:
            assert (sums[:, 2] == 1).all() and (sums[:, 3] == 1).all()
            assert [owner for _, _, owner in board.coins] == [0, 1]
        if egocentric:
            assert obs[0, 0, g // 2, g // 2] == 1 and obs[1, 0, g // 2, g // 2] == 1
        else:
            np.testing.assert_array_equal(obs[1], obs[0][[1, 0, 3, 2]])

    check_board_and_obs(game.board(state, 0), buffers.observations[0])
    for actions in actions_seq:
        before = game.board(state, 0)
        step(game, state, rng, buffers, actions, max_cycles=max_cycles, autoreset=True)
        players, rewards, pickups, collected = reference_move(before, actions, g)
        assert buffers.rewards[0].tolist() == rewards
        assert buffers.info["pickups"][0].tolist() == pickups.tolist()
        total = pickups.sum()
        stolen = pickups[0, 1] + pickups[1, 0]
        assert buffers.rewards[0].sum() == total - 2 * stolen
        if total == 0:
            assert buffers.rewards[0].tolist() == [0.0, 0.0]
        done = before.step + 1 >= max_cycles
        assert bool(buffers.truncated[0]) == done
        board = game.board(state, 0)
        if done:
            # the board is already the next episode's; the final observation shows the move
            final = buffers.final_observations[0]
            assert (final[:, 0].sum(axis=(1, 2)) == 1).all()
            if not egocentric:
                assert tuple(np.argwhere(final[0, 0])[0].tolist()) == players[0]
                assert tuple(np.argwhere(final[1, 0])[0].tolist()) == players[1]
            assert board.step == 0
        else:
            assert board.step == before.step + 1
            assert board.players == tuple(players)
            for k, (coin_before, coin_after) in enumerate(
                zip(before.coins, board.coins, strict=True)
            ):
                if not collected[k]:
                    assert coin_after == coin_before
                elif rules == "loqa":
                    assert coin_after[2] == 1 - coin_before[2], "owner alternates"
                else:
                    assert coin_after[2] == coin_before[2]
        check_board_and_obs(board, buffers.observations[0])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    payoffs=st.tuples(*[st.integers(-5, 5)] * 3),
    rules=st.sampled_from(["loqa", "pax"]),
    data=st.data(),
)
def test_custom_payoffs(seed, payoffs, rules, data):
    game, state, rng, buffers = batch(seed=seed, rules=rules, payoffs=payoffs)
    for _ in range(15):
        actions = data.draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
        before = game.board(state, 0)
        step(game, state, rng, buffers, actions)
        _, rewards, _, _ = reference_move(before, actions, 3, payoffs)
        assert buffers.rewards[0].tolist() == rewards


# ---- seeding and equivalence of the two APIs --------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"rules": "pax", "egocentric": True}, {"grid_size": 4, "egocentric": True}],
    ids=["loqa", "pax-egocentric", "4x4"],
)
def test_pettingzoo_episode_equals_vector_sub_env(kwargs):
    """Sub-env i of make_vec(seed=s) plays exactly like a PettingZoo env reset with seed s + i."""
    n, seed, max_cycles, steps = 3, 41, 5, 17
    num_actions = 5 if kwargs.get("rules") == "pax" else 4
    actions = np.random.default_rng(0).integers(0, num_actions, size=(steps, n, 2))
    vec = socialdilemmas.make_vec("coin_game_v0", n, seed=seed, max_cycles=max_cycles, **kwargs)
    vec_obs, _ = vec.reset()
    for i in range(n):
        env = coin_game_v0.parallel_env(max_cycles=max_cycles, **kwargs)
        obs, _ = env.reset(seed=seed + i)
        vec_obs_i = vec_obs[i]
        for agent, seat in (("player_0", 0), ("player_1", 1)):
            np.testing.assert_array_equal(obs[agent], vec_obs_i[seat])
    envs = [coin_game_v0.parallel_env(max_cycles=max_cycles, **kwargs) for _ in range(n)]
    for i, env in enumerate(envs):
        env.reset(seed=seed + i)
    vec.reset(seed=seed)
    for t in range(steps):
        v_obs, v_rew, v_term, v_trunc, v_info = vec.step(actions[t])
        for i, env in enumerate(envs):
            obs, rew, term, trunc, info = env.step(
                {"player_0": int(actions[t, i, 0]), "player_1": int(actions[t, i, 1])}
            )
            for agent, seat in (("player_0", 0), ("player_1", 1)):
                expected_obs = (
                    v_info["final_observation"][i, seat] if v_trunc[i] else (v_obs[i, seat])
                )
                np.testing.assert_array_equal(obs[agent], expected_obs)
                assert rew[agent] == v_rew[i, seat]
                assert term[agent] is False and v_term[i] == False  # noqa: E712
                assert trunc[agent] is bool(v_trunc[i])
                picks = v_info["pickups"][i]
                assert info[agent] == {
                    "own_coin_pickups": picks[seat, seat],
                    "other_coin_pickups": picks[seat, 1 - seat],
                    "own_coin_taken_by_other": picks[1 - seat, seat],
                }
            if v_trunc[i]:
                assert env.agents == []
                obs, _ = env.reset()
                for agent, seat in (("player_0", 0), ("player_1", 1)):
                    np.testing.assert_array_equal(obs[agent], v_obs[i, seat])


def test_sub_env_does_not_depend_on_the_batch():
    actions = np.random.default_rng(1).integers(0, 4, size=(30, 8, 2))
    big = socialdilemmas.make_vec("coin_game_v0", 8, seed=100, max_cycles=7)
    small = socialdilemmas.make_vec("coin_game_v0", 1, seed=105, max_cycles=7)
    big.reset()
    small.reset()
    for t in range(30):
        big_out = big.step(actions[t])
        small_out = small.step(actions[t, 5:6])
        np.testing.assert_array_equal(big_out[0][5], small_out[0][0])
        np.testing.assert_array_equal(big_out[1][5], small_out[1][0])


def test_same_seed_same_episode_and_different_seeds_differ():
    boards = []
    for seed in (3, 3, 4):
        env = coin_game_v0.parallel_env()
        env.reset(seed=seed)
        trace = []
        for _ in range(20):
            env.step({"player_0": 0, "player_1": 2})
            trace.append(env.game.board(env._state, 0))
        boards.append(trace)
    assert boards[0] == boards[1]
    assert boards[0] != boards[2]


# ---- arguments and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"grid_size": 1}, ValueError, "grid_size must be at least 2"),
        ({"grid_size": 0}, ValueError, "grid_size"),
        ({"grid_size": 1025}, ValueError, "grid_size must be at most 1024"),
        ({"grid_size": 2.5}, TypeError, "grid_size must be an integer"),
        ({"grid_size": "3"}, TypeError, "grid_size must be an integer"),
        ({"grid_size": True}, TypeError, "grid_size"),
        ({"max_cycles": 0}, ValueError, "max_cycles must be at least 1"),
        ({"max_cycles": -3}, ValueError, "max_cycles"),
        ({"max_cycles": 5.0}, TypeError, "max_cycles must be an integer"),
        ({"rules": "lola"}, ValueError, r"rules must be one of \['loqa', 'pax'\]"),
        ({"rules": None}, ValueError, "rules must be one of"),
        ({"egocentric": "yes"}, TypeError, "egocentric must be True or False"),
        ({"egocentric": 1}, TypeError, "egocentric"),
        ({"payoffs": (1, 1)}, ValueError, "payoffs must be 3 numbers"),
        ({"payoffs": "112"}, TypeError, "payoffs must be a sequence"),
        ({"payoffs": (1, float("nan"), -2)}, ValueError, "payoffs must be finite"),
        ({"payoffs": (1, "a", -2)}, TypeError, "payoffs must be real numbers"),
        ({"payoffs": [[1, 1, -2]]}, ValueError, "payoffs must be 3 numbers"),
        ({"render_mode": "video"}, ValueError, "render_mode must be None or one of"),
        ({"colour": "red"}, TypeError, "colour"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        coin_game_v0.parallel_env(**kwargs)


def test_bad_arguments_reach_make_vec():
    with pytest.raises(ValueError, match="grid_size must be at least 2"):
        socialdilemmas.make_vec("coin_game_v0", 4, grid_size=1)


@pytest.mark.parametrize(
    "action, error, match",
    [
        (
            4,
            ValueError,
            r"action of player_1 is out of range: got 4, expected an integer in \[0, 3\]",
        ),
        (-1, ValueError, "out of range: got -1"),
        (1.0, TypeError, "action of player_1 must be an integer in"),
        ("up", TypeError, "action of player_1 must be"),
        (None, TypeError, "action of player_1 must be"),
        (np.array([1, 2]), TypeError, r"must be an integer in \[0, 3\], got array"),
    ],
)
def test_bad_parallel_actions(action, error, match):
    env = coin_game_v0.parallel_env()
    env.reset(seed=0)
    before = env._state.copy()
    with pytest.raises(error, match=match):
        env.step({"player_0": 0, "player_1": action})
    np.testing.assert_array_equal(env._state, before)
    env.step({"player_0": 0, "player_1": np.int64(3)})  # still usable afterwards


def test_parallel_step_needs_every_agent():
    env = coin_game_v0.parallel_env()
    env.reset(seed=0)
    with pytest.raises(KeyError, match="missing actions"):
        env.step({"player_0": 0})
    with pytest.raises(TypeError, match="must be a dict"):
        env.step([0, 1])


def test_bad_aec_action_raises_at_once():
    env = coin_game_v0.env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action of player_0 is out of range: got 7"):
        env.step(7)


@pytest.mark.parametrize(
    "actions, error, match",
    [
        (
            np.zeros((4, 2), dtype=np.int64) + [[0, 5]],
            ValueError,
            "player_1 in env 0 is out of range",
        ),
        (np.zeros((4, 2)), TypeError, "integer array"),
        (np.zeros((4, 3), dtype=np.int64), ValueError, r"must have shape \(4, 2\)"),
        (np.zeros(8, dtype=np.int64), ValueError, "must have shape"),
    ],
)
def test_bad_vector_actions(actions, error, match):
    vec = socialdilemmas.make_vec("coin_game_v0", 4, seed=0)
    vec.reset()
    with pytest.raises(error, match=match):
        vec.step(actions)


# ---- rendering --------------------------------------------------------------------------------


def test_ansi_board():
    env = coin_game_v0.parallel_env(render_mode="ansi")
    env.reset(seed=0)
    env.game.set_board(env._state, 0, [(0, 0), (0, 0)], [(2, 1, 1)], step=7)
    assert env.render().splitlines()[:4] == ["step 7", "RB .  .", ".  .  .", ".  b  ."]
    pax = coin_game_v0.parallel_env(render_mode="ansi", rules="pax")
    pax.reset(seed=0)
    pax.game.set_board(pax._state, 0, [(1, 1), (2, 2)], [(1, 1, 0), (1, 1, 1)])
    assert pax.render().splitlines()[1:4] == [".   .   .", ".   Rrb .", ".   .   B"]


def test_human_render_prints(capsys):
    env = coin_game_v0.parallel_env(render_mode="human")
    env.reset(seed=0)
    env.step({"player_0": 0, "player_1": 0})
    assert "step 1" in capsys.readouterr().out


def test_rgb_array():
    env = coin_game_v0.parallel_env(render_mode="rgb_array", grid_size=4)
    env.reset(seed=0)
    env.game.set_board(env._state, 0, [(0, 0), (3, 2)], [(1, 3, 0)])
    image = env.render()
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    red, blue = image[16, 8], image[3 * 32 + 16, 2 * 32 + 16]
    assert red[0] > 150 and red[2] < 100, f"player_0 is red, got {red}"
    assert blue[2] > 150 and blue[0] < 100, f"player_1 is blue, got {blue}"
    coin = image[32 + 16, 3 * 32 + 16]
    empty = image[2 * 32 + 16, 16]
    assert not (coin == empty).all() and not (coin == red).all()
    # a shared cell is split: red on the left, blue on the right
    env.game.set_board(env._state, 0, [(2, 2), (2, 2)], [(0, 0, 1)])
    image = env.render()
    left, right = image[2 * 32 + 16, 2 * 32 + 6], image[2 * 32 + 16, 2 * 32 + 26]
    assert left[0] > 150 and left[2] < 100 and right[2] > 150 and right[0] < 100


def test_vector_render():
    vec = socialdilemmas.make_vec("coin_game_v0", 3, seed=0, render_mode="rgb_array")
    vec.reset()
    assert vec.render(2).shape == (96, 96, 3)
    vec = socialdilemmas.make_vec("coin_game_v0", 3, seed=0, render_mode="ansi")
    vec.reset()
    assert vec.render(1).startswith("step 0")


def test_metadata():
    env = coin_game_v0.parallel_env()
    assert env.metadata["name"] == "coin_game_v0"
    assert env.metadata["render_modes"] == ["human", "ansi", "rgb_array"]
    assert env.action_space("player_0").n == 4
    assert coin_game_v0.parallel_env(rules="pax").action_space("player_1").n == 5
    assert env.observation_space("player_1").shape == (4, 3, 3)


# ---- PettingZoo API on the non-default variants (the registry battery covers the default) ------


@pytest.mark.parametrize(
    "kwargs", [{"rules": "pax", "egocentric": True}, {"grid_size": 2}, {"grid_size": 6}]
)
def test_pettingzoo_api(kwargs):
    api_test(coin_game_v0.env(max_cycles=30, **kwargs), num_cycles=40)
    parallel_api_test(coin_game_v0.parallel_env(max_cycles=30, **kwargs), num_cycles=40)


# ---- documentation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module_name",
    ["socialdilemmas.coin_game.env", "socialdilemmas.coin_game.strategies"],
)
def test_doctests(module_name):
    import importlib

    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_kernel_seed_streams_are_independent_of_position():
    """The counter-based stream of env i only depends on its own seed."""
    game = CoinGame()
    state, rng, buffers = game.allocate(4)
    seed_streams(rng, np.array([2], dtype=np.int64), np.array([9], dtype=np.uint64))
    game.reset_envs(state, rng, np.array([2], dtype=np.int64), buffers)
    single = CoinGame()
    s1, r1, b1 = single.allocate(1)
    seed_streams(r1, np.array([0], dtype=np.int64), np.array([9], dtype=np.uint64))
    single.reset_envs(s1, r1, np.array([0], dtype=np.int64), b1)
    np.testing.assert_array_equal(state[2], s1[0])
