"""The close of business (COB, 日终批处理): every loan of the book moved to a date at once, on
columns. The functions here give exactly the answers of the single-loan rules in `loans/`
(property tests hold them to it), but work on Polars frames for the whole book."""
