"""What the secretariat takes away: the implementation matrix, exports, and
(next) the draft report and the progress page. Each is made from the rows of
``storage.report_rows``, as the history stood at a chosen moment."""
