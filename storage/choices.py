"""Closed lists of words the commands offer as choices (``--action``,
``--clear``, ``--sort``, ``--by``...), in a module that imports nothing: so
`nmrf-bot COMMAND --help` can show them without loading the database layer.
The modules that check them import them from here."""

from __future__ import annotations

# The audit log's actions: row changes, and whole imports (storage.importers.run
# records one per file).
AUDIT_ACTIONS = ("insert", "update", "delete", "import")

# What `actions edit --clear` can empty (storage.actions.edit_action).
ACTION_CLEARABLE = frozenset({"description", "start_date", "target_date", "budget", "contributing", "sdg_targets", "chapters"})

# How a report's rows are sorted (storage.report_rows) and grouped by SDG
# (storage.report_groups), what a summary is by (handlers.summaries) and what
# a progress page groups by (handlers.report_orders).
REPORT_SORTS = ("default", "priority")
SDG_GROUPS = ("sdg-goal", "sdg-target")
SUMMARY_GROUPINGS = ("institution", "cluster", *SDG_GROUPS)
PROGRESS_GROUPS = ("cluster", "sdg-goal", "sdg-target")
