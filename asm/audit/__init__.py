"""Tamper evidence: hash chains over append-only tables (`chain.py` pure, `chains.py` the registry and verify)."""
