"""Scripted reference strategies, batched, per game (see each module for exact definitions)."""
