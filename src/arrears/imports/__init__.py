"""`arrears import DIR`: a loan book from CSV or Parquet, validated whole, written whole.

See `docs/data-format.md` for the files, columns, row numbering and the error report.
"""

from arrears.imports.book import ImportResult, import_book
from arrears.imports.issues import MAX_ISSUES, ImportIssue, ImportRejected

__all__ = ["MAX_ISSUES", "ImportIssue", "ImportRejected", "ImportResult", "import_book"]
