"""Learning algorithms and their building blocks (one module per algorithm)."""
