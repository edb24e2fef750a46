"""Arrears: post-loan risk management and debt collection (贷后管理与催收)."""

__version__ = "0.1.0"
