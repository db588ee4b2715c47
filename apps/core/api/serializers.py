"""Serializers of the plan API. Fields are listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from apps.core import export
from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.core.states import JobStatus


class WorkstationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workstation
        fields = ["id", "name", "type", "link_state", "updated_at", "gone_at"]


class JobStreamSerializer(serializers.ModelSerializer):
    workstation = serializers.CharField(source="workstation.name")
    job_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = JobStream
        fields = [
            "id",
            "hwa_id",
            "name",
            "workstation",
            "scheduled_time",
            "state",
            "job_count",
            "updated_at",
        ]


class StreamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobStream
        fields = ["id", "name", "scheduled_time"]


class JobSerializer(serializers.ModelSerializer):
    workstation = serializers.CharField(source="workstation.name")
    stream = StreamRefSerializer()
    status = serializers.ChoiceField(choices=JobStatus.choices)

    class Meta:
        model = Job
        fields = [
            "id",
            "hwa_id",
            "name",
            "status",
            "internal_state",
            "workstation",
            "stream",
            "return_code",
            "start",
            "end",
            "rerun_count",
            "updated_at",
        ]


class JobStatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobStatusEvent
        fields = ["from_state", "to_state", "at"]


class JobDetailSerializer(JobSerializer):
    recent_events = JobStatusEventSerializer(many=True, read_only=True)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "recent_events"]


class CountsSerializer(serializers.DictField):
    child = serializers.IntegerField()


class JobStatusSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = CountsSerializer()
    by_internal_state = CountsSerializer()
    by_workstation = CountsSerializer()


class ExportQuerySerializer(serializers.Serializer):
    """The export's own query parameter (the filters are the job list's)."""

    format = serializers.ChoiceField(
        choices=export.FORMATS, default=export.CSV, help_text="File format of the export."
    )
