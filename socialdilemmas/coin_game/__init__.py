"""The Coin Game: kernels, rule presets, the PettingZoo env and the scripted strategies' rules."""

from socialdilemmas.coin_game.game import RULES, Board, CoinGame, CoinGameRules

__all__ = ["RULES", "Board", "CoinGame", "CoinGameRules"]
