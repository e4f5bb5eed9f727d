"""A property test over the whole JSON API: every operation the OpenAPI document at
/api/openapi.json lists gets arbitrary JSON and strings as its body, arbitrary query
strings (NUL included) and arbitrary path values, as a logged-in user of its role.
Whatever arrives, the answer is never a 5xx, and a 4xx is always the error shape.

Bounded (FUZZ_EXAMPLES per operation) so the whole file runs in CI in well under a
minute; raise it locally to search harder: FUZZ_EXAMPLES=500 scripts/test tests/portal/test_api_fuzz.py
"""

import json
import os
import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import JobFactory, NotificationFactory, RewardFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CRON_SECRET = "fuzz-cron-secret"
OWN_JOB = "\x00own-job\x00"  # stands for the provider's own job id in a path


def api_operations() -> list[tuple[str, str, dict]]:
    """(method, path template, operation) for every operation in the OpenAPI document."""
    # Read at collection, before the test environment adds "testserver" to ALLOWED_HOSTS.
    doc = Client().get("/api/openapi.json", headers={"host": "localhost"}).json()
    return [
        (method.upper(), path, operation)
        for path, methods in doc["paths"].items()
        for method, operation in methods.items()
    ]


OPERATIONS = api_operations()

# Strings as hostile as JSON can carry them: any code point, lone surrogates included.
hostile_text = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"]), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=12,
)


def bodies(operation: dict):
    """Raw request bodies: JSON values (objects shaped like the operation's own, or
    anything), and strings that may not be JSON at all, each with a content type."""
    names = ["status", "amount", "rewardId", "ids", "all"]
    shaped = st.dictionaries(st.sampled_from(names) | hostile_text, json_values, max_size=4)
    as_json = (shaped | json_values).map(lambda value: json.dumps(value).encode())
    as_text = st.text(max_size=60).map(str.encode) | st.binary(max_size=60)
    content_types = st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
         "multipart/form-data; boundary=fuzz", "application/merge-patch+json"]
    )
    return st.tuples(as_json | as_text, content_types)


def queries(operation: dict):
    known = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] + ["status"]
    keys = st.sampled_from(known) | st.text(max_size=8)
    values = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
    return st.dictionaries(keys, values, max_size=3).map(lambda query: urlencode(query))


path_values = st.just(OWN_JOB) | st.uuids().map(str) | st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)


@pytest.fixture
def role_clients(customer, provider, lawn, settings):
    """A client per security scheme the document names, with data for them to touch."""
    settings.CRON_SECRET = CRON_SECRET
    settings.RESEND_API_KEY = ""
    NotificationFactory.create_batch(2, customer=customer)
    RewardFactory(points_cost=10)
    job = JobFactory(customer=customer, provider=provider, service_type=lawn)
    customer_client, provider_client = Client(), Client()
    customer_client.force_login(customer.user)
    provider_client.force_login(provider.user)
    cron_client = Client(headers={"Authorization": f"Bearer {CRON_SECRET}"})
    clients = {"CustomerSession": customer_client, "ProviderSession": provider_client, "CronSecret": cron_client}
    return clients, str(job.id)


def assert_error_shape(response):
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) - {"stats"} == {"error"}, body
    assert isinstance(body["error"].get("code"), str) and body["error"]["code"]
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_no_request_gets_a_5xx_and_every_4xx_is_the_error_shape(role_clients, method, path, operation):
    clients, own_job = role_clients
    (scheme,) = operation["security"][0]
    client = clients[scheme]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies(operation), query=queries(operation), path_value=path_values)
    def fuzz(body, query, path_value):
        value = own_job if path_value == OWN_JOB else path_value
        url = re.sub(r"\{[^}]+\}", quote(value, safe=""), path)
        raw, content_type = body
        response = client.generic(method, f"{url}?{query}" if query else url, raw, content_type=content_type)
        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            assert_error_shape(response)

    fuzz()
