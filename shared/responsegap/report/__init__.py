"""The weekly report: compose the figures, render them (HTML, text, CSV, JSON), mail and archive.

``compose`` reads the store and computes; ``render``/``csv_export``/``mime`` turn a
:class:`WeeklyReport` into bytes; ``mailer`` (SES v2) and ``archive`` (S3) do the I/O.
"""

from responsegap.report.compose import (
    RollupReport,
    WeeklyReport,
    compose_rollup,
    compose_weekly_report,
    week_figures_snapshot,
)

__all__ = [
    "RollupReport",
    "WeeklyReport",
    "compose_rollup",
    "compose_weekly_report",
    "week_figures_snapshot",
]
