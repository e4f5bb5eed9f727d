"""Rendering an email: its three parts from templates/emails/<name>/ (each extending
the one layout in templates/emails/_layout/), with what every email shares in the
context, and the HTML's CSS inlined by css-inline (mail clients drop <style>; the
layout's @media rules stay, for the clients that read them).

build_email (one customer) and EmailStencil.render (a batch job, once per run) both
render here, so they cannot differ.
"""

import css_inline
from django.conf import settings
from django.template.loader import render_to_string

from .consent import preferences_url

_INLINER = css_inline.CSSInliner(keep_at_rules=True, minify_css=True, load_remote_stylesheets=False)


def shared_context(kind: str) -> dict:
    """What every email's templates may use besides their own context: the brand, the
    site, the preferences link, the postal address, and the email's kind (the layout's
    footer says why the customer gets it)."""
    return {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "preferences_url": preferences_url(),
        "company_postal_address": settings.COMPANY_POSTAL_ADDRESS,
        "email_kind": kind,
    }


def render_parts(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, HTML). The subject and text part are plain text, rendered
    without HTML escaping; the subject's whitespace is collapsed to single spaces."""
    folder = f"emails/{template}"
    subject = " ".join(render_to_string(f"{folder}/subject.txt", context, using="text").split())
    text = render_to_string(f"{folder}/body.txt", context, using="text")
    return subject, text, inline_css(render_to_string(f"{folder}/body.html", context))


def inline_css(html: str) -> str:
    """The HTML with its <style> rules moved into style attributes. The document is
    parsed and written out again, which changes how some characters are escaped
    (escape_as_inlined says how)."""
    return _INLINER.inline(html)


def escape_as_inlined(value: str) -> str:
    """`value` HTML-escaped as inline_css() writes text: &, < and > escaped, a no-break
    space as &nbsp;, quotes left as they are, line ends as the HTML parser reads them
    (CR LF and CR become LF, NUL dropped). A slot's value filled in after inlining
    (EmailStencil) reads exactly as if it had been rendered and inlined. Inside an
    attribute the inliner escapes quotes rather than < and >; the attribute values
    filled in this way are URLs, which hold neither."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\u00a0", "&nbsp;")
    )
