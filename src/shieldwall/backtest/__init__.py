"""Backtests against the public attack record: the raid generator (``raids``) and the engine's
interception rates (``rates``), both read with ``shieldwall.scenario.record`` (docs/validation.md)."""
