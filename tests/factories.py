"""factory_boy factories for users and the plan mirror."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.models import Job, JobStatusEvent, JobStream, Workstation

PASSWORD = "a-test-password-9f3"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class WorkstationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workstation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"AGENT{n:03d}")
    type = "AGENT"
    link_state = "LINKED"


class JobStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobStream

    hwa_id = factory.Sequence(lambda n: f"STREAM{n:06d}")
    name = factory.Sequence(lambda n: f"PAYROLL_{n:03d}")
    workstation = factory.SubFactory(WorkstationFactory)
    scheduled_time = factory.LazyFunction(timezone.now)
    state = "EXEC"


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    hwa_id = factory.Sequence(lambda n: f"JOB{n:08d}")
    name = factory.Sequence(lambda n: f"JOB_{n:04d}")
    stream = factory.SubFactory(JobStreamFactory)
    workstation = factory.LazyAttribute(lambda job: job.stream.workstation)
    internal_state = "SUCC"
    return_code = 0
    start = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    end = factory.LazyFunction(timezone.now)


class JobStatusEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobStatusEvent

    job = factory.SubFactory(JobFactory)
    from_state = "EXEC"
    to_state = "SUCC"
