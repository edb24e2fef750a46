"""Printable documents: letters and legal papers rendered as PDF (`pdf`), on the lender's
letterhead (`letterhead`)."""
