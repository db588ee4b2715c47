"""The jobs page: the API's filters in the URL, sorting, paging, export, errors."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse

from apps.core.console.jobs import PAGE_SIZE
from apps.core.models import Job
from tests.core.console.conftest import signed_in

pytestmark = pytest.mark.django_db


def _rows(response) -> list[Job]:
    return list(response.context["page"]) if "page" in response.context else []


def _names(html: str) -> list[str]:
    return [name for name in Job.objects.values_list("name", flat=True) if f">{name}</a>" in html]


def test_filters_take_the_apis_names_and_stay_in_the_url(plan, viewer):
    error_jobs = Job.objects.filter(status="Error")
    first = error_jobs.first()
    url = f"{reverse('console-jobs')}?status=Error&workstation={first.workstation.name}"

    page = signed_in(viewer).get(url).content.decode()

    expected = error_jobs.filter(workstation=first.workstation)
    assert set(_names(page)) == set(expected.values_list("name", flat=True))
    assert 'value="Error" checked' in page
    assert f'value="{first.workstation.name}"' in page


def test_the_export_button_hands_on_the_same_filters(plan, viewer):
    url = f"{reverse('console-jobs')}?status=Error&q=J00&ordering=name&page=2"

    page = signed_in(viewer).get(url).content.decode()

    href = page.split('class="button" href="')[1].split('"')[0].replace("&amp;", "&")
    parts = urlsplit(href)
    assert parts.path == "/api/v1/jobs/export/"
    assert sorted(parse_qsl(parts.query)) == [("format", "csv"), ("q", "J00"), ("status", "Error")]


def test_columns_sort_both_ways(plan, viewer):
    client = signed_in(viewer)

    ascending = client.get(f"{reverse('console-jobs')}?ordering=rerun_count").content.decode()
    descending = client.get(f"{reverse('console-jobs')}?ordering=-rerun_count").content.decode()

    assert 'aria-sort="ascending"' in ascending
    assert 'aria-sort="descending"' in descending
    most = Job.objects.order_by("-rerun_count", "-id").first()
    assert descending.index(f">{most.name}</a>") < descending.index("</tbody>")


def test_pages_hold_page_size_rows_and_link_on(db, viewer):
    from apps.core.services.demo_plan import demo_plan_load

    demo_plan_load(jobs=PAGE_SIZE + 7, seed=4)
    client = signed_in(viewer)

    first = client.get(f"{reverse('console-jobs')}?ordering=name").content.decode()
    second = client.get(f"{reverse('console-jobs')}?ordering=name&page=2").content.decode()

    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    assert f"{PAGE_SIZE + 1}-{PAGE_SIZE + 7} shown" in second


def test_a_bad_filter_is_a_400_naming_it(plan, viewer):
    response = signed_in(viewer).get(f"{reverse('console-jobs')}?status=Exploded&start_after=soon")

    assert response.status_code == 400
    assert set(response.context["errors"]) == {"status", "start_after"}


def test_every_row_shows_status_as_text_and_colour(plan, viewer):
    page = signed_in(viewer).get(reverse("console-jobs")).content.decode()

    assert 'class="status st-error"' in page
    assert '<span class="dot" aria-hidden="true"></span>Error</span>' in page


def test_a_repeated_filter_gives_one_answer_whatever_its_order(plan, viewer):
    # The page is cached per normalised query: both orders are one key, so they must be one
    # page (the FilterSet reads the normalised query, not the raw one).
    client = signed_in(viewer)
    base = reverse("console-jobs")

    first = _main(client.get(f"{base}?internal_state=ABEND&internal_state=SUCC"))
    second = _main(client.get(f"{base}?internal_state=SUCC&internal_state=ABEND"))

    assert first == second


def _main(response) -> str:
    """The page's content (the layout holds a CSRF token masked anew on each request)."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_a_bad_filter_is_refused_every_time_not_cached(plan, viewer):
    client = signed_in(viewer)
    url = f"{reverse('console-jobs')}?start_after=yesterday"

    answers = [client.get(url) for _ in range(2)]

    assert [a.status_code for a in answers] == [400, 400]
    assert all(b"start_after" in a.content for a in answers)


def test_the_content_is_shared_but_the_layout_is_each_users(plan, viewer, operator):
    url = f"{reverse('console-jobs')}?status=Error"

    mine = signed_in(viewer).get(url).content.decode()
    theirs = signed_in(operator).get(url).content.decode()

    assert f"<span>{viewer.username}</span>" in mine
    assert f"<span>{operator.username}</span>" in theirs
    assert f"<span>{viewer.username}</span>" not in theirs
