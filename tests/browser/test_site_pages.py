"""The page walk's list (site_pages.py) keeps up with the URLconf: a page added to the
project without being added to the walk fails here."""

from django.urls import URLPattern, URLResolver, get_resolver

from .site_pages import (
    CUSTOMER_PAGES,
    NOT_PAGE_NAMESPACES,
    NOT_PAGES,
    PROVIDER_PAGES,
    PUBLIC_PAGES,
    STAFF_PAGES,
    WALKED_ELSEWHERE,
)


def url_names(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace in WALKED_ELSEWHERE | NOT_PAGE_NAMESPACES:
                continue
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_named_url_is_walked_or_said_not_to_be_a_page():
    listed = set(CUSTOMER_PAGES + PROVIDER_PAGES + STAFF_PAGES + PUBLIC_PAGES) | set(NOT_PAGES)
    missing = sorted(set(url_names()) - listed)
    assert not missing, f"add these to tests/browser/site_pages.py: {missing}"


def test_the_list_names_only_urls_that_exist():
    names = set(url_names())
    for name in CUSTOMER_PAGES + PROVIDER_PAGES + PUBLIC_PAGES + list(NOT_PAGES):
        assert name in names, name
