"""Core models: the plan mirror (plan.py) and runtime configuration (runtime.py, pools.py)."""

from apps.core.models.plan import Job, JobStatusEvent, JobStream, Workstation
from apps.core.models.pools import ConnectionPoolConfig
from apps.core.models.runtime import ConfigVersion

__all__ = [
    "ConfigVersion",
    "ConnectionPoolConfig",
    "Job",
    "JobStatusEvent",
    "JobStream",
    "Workstation",
]
