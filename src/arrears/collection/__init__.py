"""Staged collection (分阶段催收): cases per delinquent borrower, the stage policy, the daily case
update, queues and assignment, the contact log, promises to pay, disputes, repayment plans and
settlements (maker-checker), lawsuits, agencies and write-off. See docs/collection.md.

Services take an engine and the acting user's name, open one unit of work, ask the policy, write
the change with its event and commit — so an API route or a CLI command is a thin call.
"""
