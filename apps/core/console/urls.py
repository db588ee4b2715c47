"""The console's pages; resync_site/urls.py includes them at the root."""

from __future__ import annotations

from django.urls import path

from apps.core.console import access, assistant, jobs, overview, plan, system

urlpatterns = [
    # "home": the admin's "View site" and `make run` land here.
    path("", overview.OverviewView.as_view(), name="home"),
    path("overview/live/", overview.OverviewLiveView.as_view(), name="console-overview-live"),
    path("jobs/", jobs.JobListView.as_view(), name="console-jobs"),
    path("jobs/<int:pk>/", jobs.JobDetailView.as_view(), name="console-job"),
    path("streams/", plan.JobStreamListView.as_view(), name="console-streams"),
    path("workstations/", plan.WorkstationListView.as_view(), name="console-workstations"),
    path("assistant/", assistant.AssistantPageView.as_view(), name="console-assistant"),
    path("system/", system.SystemView.as_view(), name="console-system"),
    path("system/live/", system.SystemLiveView.as_view(), name="console-system-live"),
    path("login/", access.ConsoleLoginView.as_view(), name=access.LOGIN_URL_NAME),
    path("logout/", access.ConsoleLogoutView.as_view(), name="console-logout"),
]
