"""Subcommands of the ``socialdilemmas`` command line, one module each (see ``agents.cli``)."""
