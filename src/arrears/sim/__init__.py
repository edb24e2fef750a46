"""Portfolio simulator: borrowers, loans, repayment behaviour with known ground truth.

`simulate(SimConfig(...), catalog)` draws a book; `write_book(book, out, fmt)` writes it in the
import format plus `truth` and `features`. See docs/simulator.md.
"""

from arrears.sim.book import SimBook, SimConfig, simulate, write_book

__all__ = ["SimBook", "SimConfig", "simulate", "write_book"]
