"""The loan book's rules: terms, schedules, payment allocation, penalty interest and status.

Pure functions over small immutable values. Nothing in this package reads a file, a clock or a
database; everything that depends on time takes the business date (`as_of`) as an argument.
"""

# Recorded with every stored status so a figure can be traced to the rules that produced it.
RULES_VERSION = "2026.11.1"
