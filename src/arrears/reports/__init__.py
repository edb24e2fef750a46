"""Portfolio analytics (roll and flow rates, cure, vintages, PAR, NPL, FPD) and the HTML report.

`portfolio` holds the pure functions over Polars frames; `data` reads those frames from the
database in bulk; `summary` composes them for one date; `html` renders the self-contained report.
"""
