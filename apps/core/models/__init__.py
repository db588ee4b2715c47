"""Core models: the plan mirror (plan.py), the HWA integration (hwa.py), runtime config."""

from apps.core.models.hwa import HwaConnection, JobAction, SyncRun
from apps.core.models.plan import Job, JobStatusEvent, JobStream, Workstation
from apps.core.models.runtime import ConfigVersion

__all__ = [
    "ConfigVersion",
    "HwaConnection",
    "Job",
    "JobAction",
    "JobStatusEvent",
    "JobStream",
    "SyncRun",
    "Workstation",
]
