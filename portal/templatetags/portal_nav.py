"""The top navigation's links, rendered once per process for each page and role.

They are the same on every request to a page: which page is current and whether the
user is a customer or a provider decide them, and base.html draws what changes (the
bell's count, the logout form's CSRF token) around them. Reversing their URLs and
comparing the current page with each cost about a third of a millisecond on every page.
"""

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe

register = template.Library()

_rendered: dict[tuple, str] = {}


@register.simple_tag(takes_context=True)
def nav_links(context) -> str:
    """portal/nav_links.html for this page and the context's `role` (context_processors.portal)."""
    request = context.get("request")
    role = context.get("role")
    role = "customer" if role == "customer" else "provider" if role == "provider" else None  # a lazy one read
    if request is None or role is None:
        return ""
    match = request.resolver_match
    current = match.view_name if match else None
    key = (role, current, get_script_prefix())
    if key not in _rendered:
        _rendered[key] = mark_safe(render_to_string("portal/nav_links.html", {"role": role, "current": current}))
    return _rendered[key]
