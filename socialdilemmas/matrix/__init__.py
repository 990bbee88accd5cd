"""Iterated 2x2 games: kernels, presets, the PettingZoo env and exact values."""

from socialdilemmas.matrix.exact import average_rewards, exact_values
from socialdilemmas.matrix.game import MatrixGame
from socialdilemmas.matrix.payoffs import PRESETS, payoff_table

__all__ = ["PRESETS", "MatrixGame", "average_rewards", "exact_values", "payoff_table"]
