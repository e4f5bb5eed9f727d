"""The cron HTTP triggers: the secret in constant time, disabled while unset, stats."""

import pytest
from django.core.management import get_commands

from retention.cron_api import cron_jobs
from retention.models import JobRun
from tests.factories import OutboundEmailFactory

pytestmark = pytest.mark.django_db
URL = "/api/cron/deliver-emails"


@pytest.fixture
def secret(settings):
    settings.CRON_SECRET = "s3cret-for-tests"
    return settings.CRON_SECRET


def test_missing_secret_is_401(client, secret):
    response = client.post(URL)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_cron_secret",
        "message": "Send Authorization: Bearer <CRON_SECRET>.",
    }
    assert not JobRun.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong",
        "Bearer s3cret-for-test",  # a prefix of the secret
        "Bearer s3cret-for-testsX",  # the secret with more after it
        "Bearer ",  # empty, with the secret set
        "Bearer",
        "s3cret-for-tests",
        "Basic s3cret-for-tests",
    ],
)
def test_wrong_secret_is_401(client, secret, header):
    response = client.post(URL, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Send Authorization: Bearer <CRON_SECRET>."
    assert not JobRun.objects.exists()


def test_unset_secret_disables_the_endpoints(client, settings):
    settings.CRON_SECRET = ""
    for header in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        response = client.get(URL, headers=header)
        assert response.status_code == 503
        assert response.json()["error"] == {
            "code": "cron_disabled",
            "message": "Cron endpoints are disabled: CRON_SECRET is not set.",
        }


@pytest.mark.parametrize("header", ["Bearer  s3cret-for-tests", "bearer s3cret-for-tests "])
def test_more_than_one_space_or_a_lowercase_scheme_is_accepted(client, secret, header):
    """RFC 6750 and 7235: the scheme is case-insensitive and one or more spaces come
    before the token."""
    response = client.post(URL, headers={"Authorization": header})
    assert response.status_code == 200, response.content
    assert JobRun.objects.get().name == "deliver_emails"


@pytest.mark.parametrize("method", ["get", "post"])
def test_right_secret_runs_the_job_and_answers_its_stats(client, secret, settings, method):
    settings.RESEND_API_KEY = ""  # Django's locmem backend
    OutboundEmailFactory.create_batch(2)

    response = getattr(client, method)(URL, headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200, response.content
    stats = response.json()
    assert stats["job"] == "deliver_emails" and stats["sent"] == 2 and stats["failed"] == 0
    assert {"date", "dryRun", "eligible", "skipped"} <= stats.keys()
    assert JobRun.objects.get().status == JobRun.Status.SUCCEEDED


def test_a_failed_job_answers_500_with_its_stats(client, secret, fake_resend):
    OutboundEmailFactory(to_email="broken-address")

    response = client.post(URL, headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "job_failed"
    assert body["stats"]["failed"] == 1


@pytest.mark.parametrize(
    "slug", ["send-seasonal-reminders", "check-service-due", "check-inactive-customers"]
)
def test_feature_job_routes(client, secret, slug):
    response = client.post(f"/api/cron/{slug}", headers={"Authorization": f"Bearer {secret}"})
    if cron_jobs()[slug] in get_commands():
        assert response.status_code == 200, response.content
        assert response.json()["job"] == cron_jobs()[slug]
    else:  # until the feature's command is merged
        assert response.status_code == 501
        assert response.json()["error"]["code"] == "job_not_installed"


def test_openapi_documents_the_cron_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for slug in cron_jobs():
        assert {"get", "post"} <= paths[f"/api/cron/{slug}"].keys()


def test_every_scheduled_job_has_a_cron_line_an_endpoint_and_a_command(client, settings):
    """settings.SCHEDULED_JOBS is the one list: cron lines and endpoints follow it."""
    commands = [command for command, _ in settings.SCHEDULED_JOBS]
    assert [line[2] for line in settings.CRONJOBS] == [[command] for command in commands]
    assert set(cron_jobs().values()) == set(commands)
    installed = get_commands()
    for slug, command in cron_jobs().items():
        assert command in installed, command
        assert client.get(f"/api/cron/{slug}").status_code in (401, 503)
