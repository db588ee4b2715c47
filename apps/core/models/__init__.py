"""Core models: the plan mirror (plan.py), the HWA integration (hwa.py), runtime config
(runtime.py, pools.py), the assistant's model connection (assistant.py) and its
conversations (conversations.py)."""

from apps.core.models.assistant import AssistantConfig
from apps.core.models.conversations import ActionProposal, Conversation, Message
from apps.core.models.hwa import HwaConnection, JobAction, SyncHeartbeat, SyncRun
from apps.core.models.plan import Job, JobStatusEvent, JobStream, Workstation
from apps.core.models.pools import ConnectionPoolConfig
from apps.core.models.runtime import ConfigVersion

__all__ = [
    "ActionProposal",
    "AssistantConfig",
    "ConfigVersion",
    "ConnectionPoolConfig",
    "Conversation",
    "HwaConnection",
    "Job",
    "JobAction",
    "JobStatusEvent",
    "JobStream",
    "Message",
    "SyncHeartbeat",
    "SyncRun",
    "Workstation",
]
