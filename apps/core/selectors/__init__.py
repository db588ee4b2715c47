"""Core reads, one module per area. Plan selectors are re-exported for brevity."""

from apps.core.selectors.plan import (
    RECENT_EVENTS,
    job_detail_list,
    job_export_rows,
    job_list,
    job_status_summary,
    jobstream_list,
    workstation_list,
)

__all__ = [
    "RECENT_EVENTS",
    "job_detail_list",
    "job_export_rows",
    "job_list",
    "job_status_summary",
    "jobstream_list",
    "workstation_list",
]
