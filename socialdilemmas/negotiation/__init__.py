"""The Negotiation Game, Advantage Alignment's social-dilemma version.

Kernels, the batched game, the PettingZoo env and the scripted strategies' rule logic.
"""

from socialdilemmas.negotiation.game import NegotiationGame

__all__ = ["NegotiationGame"]
