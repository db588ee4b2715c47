"""Core models: the plan mirror (plan.py)."""

from apps.core.models.plan import Job, JobStatusEvent, JobStream, Workstation

__all__ = ["Job", "JobStatusEvent", "JobStream", "Workstation"]
