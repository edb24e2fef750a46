"""Credit scoring and admission."""
