"""Every email, as the staff preview renders it, fits a phone (375 px) and a desktop
mail pane (800 px) in Chromium: nothing scrolls sideways, and the card stays at most
600 px wide."""

import pytest

from outbox.preview import email_template_dirs, render_preview

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [375, 800])
@pytest.mark.parametrize("name", sorted(email_template_dirs()))
def test_the_email_fits_the_screen(browser, name, width):
    email = render_preview(name).email
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_content(email.html_body)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    card = page.evaluate("document.querySelector('table.card').getBoundingClientRect().width")
    button = page.evaluate("[...document.querySelectorAll('a.button')].every(a => a.getBoundingClientRect().right <= innerWidth)")
    context.close()
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    assert 300 < card <= 600
    assert button
