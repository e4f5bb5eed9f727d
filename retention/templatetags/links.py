"""{% booking_url service=... code=... %}: retention.links.booking_url for templates, so
a page's booking link is the one every email, notification and job builds."""

from django import template

from retention.links import booking_url as build_booking_url

register = template.Library()


@register.simple_tag
def booking_url(*, service=None, code=None, absolute=False) -> str:
    return build_booking_url(service=service or None, code=code or None, absolute=absolute)
