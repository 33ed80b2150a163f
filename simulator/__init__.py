"""Runtimes that execute the reference engine, the simulated platform, experiments and the CLI."""
