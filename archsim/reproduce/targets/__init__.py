"""Reproduce targets: one module per published system, each registering with ``@target``."""
