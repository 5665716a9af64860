"""AETHER: a live structured summary (SIR) of every symbol, for agents and editors."""

__version__ = "0.1.0"
