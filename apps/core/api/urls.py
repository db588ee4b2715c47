"""Core API routes: the plan mirror, job actions, pool configuration and stats, the assistant."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.core.api import actions, assistant, pools, views

router = SimpleRouter()
router.register("jobs", views.JobViewSet, basename="job")
router.register("workstations", views.WorkstationViewSet, basename="workstation")
router.register("jobstreams", views.JobStreamViewSet, basename="jobstream")

urlpatterns = [
    path(
        "jobs/<int:pk>/actions/<str:action>/",
        actions.JobActionView.as_view(),
        name="job-action",
    ),
    path("jobs/status/", views.JobStatusSummaryView.as_view(), name="job-status-summary"),
    path("jobs/export/", views.JobExportView.as_view(), name="job-export"),
    path("config/pools/", pools.PoolConfigListView.as_view(), name="pool-config-list"),
    path("config/pools/<str:name>/", pools.PoolConfigDetailView.as_view(), name="pool-config"),
    path("pools/stats/", pools.PoolStatsView.as_view(), name="pool-stats"),
    path("assistant/ask/", assistant.AskView.as_view(), name="assistant-ask"),
    path("assistant/confirm/", assistant.ConfirmView.as_view(), name="assistant-confirm"),
    path(
        "assistant/conversations/",
        assistant.ConversationListView.as_view(),
        name="assistant-conversation-list",
    ),
    path(
        "assistant/conversations/<int:pk>/",
        assistant.ConversationDetailView.as_view(),
        name="assistant-conversation",
    ),
    *router.urls,
]
