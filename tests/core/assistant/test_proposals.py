"""Proposals: the question guard, and confirmation with a signed single-use token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.assistant.conversations import conversation_start
from apps.core.assistant.proposals import (
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_USED,
    TokenError,
    proposal_confirm,
    proposal_create,
    proposal_token,
    question_asks_for,
)
from apps.core.errors import ConflictError, NotFoundError
from apps.core.models import ActionProposal, Job, JobAction
from apps.monitoring.models import AuditEvent
from tests.core.sync_fixtures import waiting_job
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("question", "action", "asked"),
    [
        ("please cancel PAY_RUN#01", "cancel", True),
        ("Rerun pay_run#01 now", "rerun", True),
        ("can you re-run job {id}?", "rerun", True),
        ("put PAY_RUN#01 on hold", "hold", True),
        ("release #{id}", "release", True),
        ("why did PAY_RUN#01 fail?", "rerun", False),
        ("cancel PAY_RUN#02", "cancel", False),  # another job
        ("do not cancel PAY_RUN#01", "cancel", False),
        ("don't ever cancel PAY_RUN#01", "cancel", False),
        ("what does 'cancel' mean for PAY_RUN#01?", "cancel", False),  # quoted word is data
        ("hold PAY_RUN#01", "cancel", False),  # another action
        ("cancel PAY_RUN#011", "cancel", False),
    ],
)
def test_the_guard_reads_the_users_own_question(question, action, asked):
    job = JobFactory(name="PAY_RUN#01")

    assert question_asks_for(question.format(id=job.pk), action=action, job=job) is asked


def _proposal(user, job, action="hold", **kwargs) -> ActionProposal:
    conversation = conversation_start(user=user, question="q")
    return proposal_create(
        user=user, conversation=conversation, job=job, action=action, reason="", allowed=True
    )


def test_a_confirmed_proposal_is_performed_in_hwa_and_audited(synced, operator):
    job = waiting_job(synced)
    proposal = _proposal(operator, job)

    done, record, job_after = proposal_confirm(token=proposal_token(proposal), user=operator)

    assert synced.plan.job(job.hwa_id).state == "HOLD"
    assert (record.outcome, record.actor, job_after.internal_state) == ("ok", operator, "HOLD")
    assert JobAction.objects.get().action == "hold"
    assert AuditEvent.objects.filter(action="job.hold", actor=operator, outcome="ok").exists()
    done.refresh_from_db()
    assert done.used_at is not None


def test_a_token_works_once(synced, operator):
    job = waiting_job(synced)
    token = proposal_token(_proposal(operator, job))
    proposal_confirm(token=token, user=operator)

    with pytest.raises(ConflictError, match=TOKEN_USED):
        proposal_confirm(token=token, user=operator)
    assert JobAction.objects.count() == 1


def test_an_expired_token_is_refused(operator):
    job = JobFactory()
    proposal = _proposal(operator, job)
    ActionProposal.objects.filter(pk=proposal.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(TokenError, match=TOKEN_EXPIRED):
        proposal_confirm(token=proposal_token(proposal), user=operator)
    assert not JobAction.objects.exists()


@pytest.mark.parametrize("token", ["", "garbage", "eyJwIjoxfQ:1abc:forged"])
def test_a_forged_token_is_refused(operator, token):
    with pytest.raises(TokenError, match=TOKEN_INVALID):
        proposal_confirm(token=token, user=operator)


def test_another_users_token_is_refused(operator):
    owner = UserFactory()
    token = proposal_token(_proposal(owner, JobFactory()))

    with pytest.raises(TokenError, match=TOKEN_INVALID):
        proposal_confirm(token=token, user=operator)


def test_a_job_gone_from_the_plan_is_a_404(operator):
    job = JobFactory()
    token = proposal_token(_proposal(operator, job))
    Job.objects.filter(pk=job.pk).delete()

    with pytest.raises(NotFoundError):
        proposal_confirm(token=token, user=operator)
