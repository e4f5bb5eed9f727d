from django import template

from ..selectors import terms

register = template.Library()


@register.simple_tag
def referral_terms():
    """What each side of a referral gets, for pages outside the app (the rewards page)."""
    return terms()
