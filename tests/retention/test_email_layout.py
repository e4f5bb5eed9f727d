"""One email layout: every email extends templates/emails/_layout/, which carries the
brand (SITE_NAME), a preheader, the postal address, the preferences link and, on
marketing email only, the unsubscribe line; its CSS is inlined by css-inline once per
rendering, so a batch job's stencil keeps its slots whole through it."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from outbox.preview import SAMPLES, email_template_dirs, render_preview
from outbox.render import escape_as_inlined, inline_css
from outbox.stencil import EmailStencil

MARKETING = {"seasonal_offer", "winback"}


@pytest.mark.parametrize("name", sorted(email_template_dirs()))
def test_every_email_extends_the_one_layout(name):
    folder = Path(email_template_dirs()[name])
    assert (folder / "body.html").read_text().startswith('{% extends "emails/_layout/base.html" %}')
    assert (folder / "body.txt").read_text().startswith('{% extends "emails/_layout/base.txt" %}')


@pytest.mark.parametrize("name", sorted(email_template_dirs()))
def test_the_layout_carries_brand_preheader_address_preferences_and_unsubscribe(settings, name):
    settings.SITE_NAME = "Acme Lawns"
    settings.COMPANY_POSTAL_ADDRESS = "1 Elm Road, Dayton, OH 45402"
    email = render_preview(name).email
    for part in (email.html_body, email.text_body):
        assert "Acme Lawns" in part and "HomeServices" not in part
        assert "1 Elm Road, Dayton, OH 45402" in part
        assert "/customer-portal/preferences/" in part
        assert ("/email/unsubscribe/" in part) is (name in MARKETING)
    assert '<div class="preheader" style="display:none;' in email.html_body
    preheader = email.html_body.split('<div class="preheader"', 1)[1].split(">", 1)[1].split("</div>", 1)[0]
    assert len(preheader.strip()) > 10


@pytest.mark.parametrize("name", sorted(email_template_dirs()))
def test_the_css_is_inlined(name):
    email = render_preview(name).email
    head, body = email.html_body.split("<body", 1)
    assert "<style" not in body
    assert 'class="content" style="padding:28px 32px;' in body
    # Only the @media rules stay in a <style>, for the clients that read them.
    style = head.split("<style>", 1)[1].split("</style>", 1)[0]
    assert style.strip().startswith("@media") and ".card {" not in style


def test_the_sender_is_the_brand():
    assert django_settings.DEFAULT_FROM_EMAIL.startswith(f"{django_settings.SITE_NAME} <")


NAMES = ["<b>Zoë&\"'</b>", "\tJean-Luc\u00a0\u2003Picard", "A&amp;B", "Ann\x1eMarie", "a\r\nb", "x\x00y"]


@pytest.mark.parametrize("value", NAMES)
def test_a_value_filled_after_inlining_reads_as_if_rendered_before(value):
    from django.utils.html import escape

    page = "<html><head><style>p {{ color: red; }}</style></head><body><p>Hi {}</p></body></html>"
    assert inline_css(page.format(escape(value))) == inline_css(page.format("\ue000x\ue000")).replace(
        "\ue000x\ue000", escape_as_inlined(value)
    )


@pytest.mark.parametrize("name", sorted(MARKETING | {"service_due"}))
def test_slots_survive_inlining_once_per_stencil(name):
    sample = SAMPLES[name].build()
    slots = ("code", "book_url") if name in MARKETING else ()
    context = {**sample.context}
    if name == "winback":
        context["promo"] = {**context["promo"], "code": EmailStencil.slot("code")}
    stencil = EmailStencil.render(template=name, kind=SAMPLES[name].kind, context=context, slots=slots)
    assert 'style="' in stencil.html_body  # inlined
    for slot in stencil.slots:
        assert EmailStencil.slot(slot) in stencil.html_body + stencil.text_body, slot
    filled = stencil.fill(**{slot: f"<{slot}&>" for slot in stencil.slots})
    assert "\ue000" not in "".join(filled)
    assert "&lt;short_name&amp;&gt;" in filled[2]
