"""EmailStencil: one email of a batch job rendered once, with each customer's values
left as slots that Python or the database fills in."""

import re
from dataclasses import dataclass
from types import SimpleNamespace

from retention.models.people import short_name

from .consent import unsubscribe_path_template, unsubscribe_url_for
from .models import OutboundEmail
from .render import escape_as_inlined, render_parts, shared_context

Kind = OutboundEmail.Kind


_SLOT_PATTERN = re.compile("\ue000([a-z_]+)\ue000")


def _slot(name: str) -> str:
    # U+E000 (private use): autoescaping leaves it alone, str.split() does not take it
    # for whitespace (as it does the ASCII separators), and no template, name or code
    # holds it.
    return f"\ue000{name}\ue000"


@dataclass(frozen=True)
class EmailStencil:
    """One email of a batch job rendered once, with each customer's own values left
    as named slots, so a batch of thousands renders its templates once instead of
    once per customer. The HTML's CSS is inlined once, when the stencil is rendered; a
    slot survives inlining whole (U+E000 is neither markup nor whitespace). Filling a
    slot is plain substitution, the value HTML-escaped in the HTML part as rendering
    and inlining would have written it (outbox.render.escape_as_inlined), so a filled
    stencil is exactly the email build_email renders for that customer (tests hold
    the two equal).

    Every stencil has the slots `short_name` (the greeting, User.get_short_name) and, for
    marketing email, `unsubscribe_url`; the caller names its own (a code, a link).
    Templates may only print a slot, not filter or test it, and a slot in the subject
    must hold no whitespace (build_email collapses the subject's whitespace).
    """

    template: str
    kind: str
    subject: str
    text_body: str
    html_body: str
    slots: tuple[str, ...]
    # Resolved when rendering: customer_values() may run on another thread, which has
    # no URL prefix or URLconf of the caller's.
    unsubscribe_path: str

    # What the rendered templates hold for a slot, for a context that puts a slot
    # inside an object (win-back's `promo.code`); render() puts each slot named in
    # `slots` in the context by its name.
    slot = staticmethod(_slot)

    @classmethod
    def render(cls, *, template: str, kind: str, context: dict, slots: tuple[str, ...] = ()) -> "EmailStencil":
        slots = ("short_name", *(("unsubscribe_url",) if kind == Kind.MARKETING else ()), *slots)
        stand_in = SimpleNamespace(user=SimpleNamespace(get_short_name=_slot("short_name")))
        context = {
            **shared_context(kind),
            "customer": stand_in,
            **context,
            **{name: _slot(name) for name in slots if name != "short_name"},
        }
        subject, text_body, html_body = render_parts(template, context)  # the CSS inlined once
        return cls(
            template=template,
            kind=kind,
            subject=subject,
            text_body=text_body,
            html_body=html_body,
            slots=slots,
            unsubscribe_path=unsubscribe_path_template(),
        )

    def fill(self, **values: str) -> tuple[str, str, str]:
        """(subject, text, HTML) with the slots filled in Python, for a job that writes
        its rows from Python (fill_sql() is the same done by the database)."""
        subject, text, html_body = self.subject, self.text_body, self.html_body
        for name, value in values.items():
            subject = subject.replace(_slot(name), value)
            text = text.replace(_slot(name), value)
            html_body = html_body.replace(_slot(name), escape_as_inlined(value))
        return subject, text, html_body

    def customer_slots(self) -> tuple[str, ...]:
        """The columns customer_values() gives: the slots every stencil has, each
        also HTML-escaped (`<slot>_html`)."""
        own = ("short_name", "unsubscribe_url") if "unsubscribe_url" in self.slots else ("short_name",)
        return tuple(name for slot in own for name in (slot, f"{slot}_html"))

    def customer_values(self, customer_id: int, email: str, name: str):
        """(column, value) for customer_slots(), for the row fill_sql() reads; the
        caller provides its own slots' columns (and their `_html` versions)."""
        greeting = short_name(name, email)
        yield "short_name", greeting
        yield "short_name_html", escape_as_inlined(greeting)
        if "unsubscribe_url" in self.slots:
            link = unsubscribe_url_for(customer_id, self.unsubscribe_path)
            yield "unsubscribe_url", link
            yield "unsubscribe_url_html", escape_as_inlined(link)

    def headers_sql(self, row: str) -> str:
        """The outbox row's headers as SQL (one-click unsubscribe for marketing)."""
        if self.kind != Kind.MARKETING:
            return "'{}'::jsonb"
        return (
            f"jsonb_build_object('List-Unsubscribe', '<' || {row}.unsubscribe_url || '>', "
            "'List-Unsubscribe-Post', 'List-Unsubscribe=One-Click')"
        )

    PARTS = ("subject", "text_body", "html_body")

    def _pieces(self, part: str) -> list[str]:
        """The part split at its slots: text, slot name, text, slot name, ..., text."""
        return _SLOT_PATTERN.split(getattr(self, part))

    def fill_sql(self, part: str, row: str) -> str:
        """SQL filling one part ("subject", "text_body", "html_body") from the columns
        of `row` (customer_values() and the caller's own): one concat() of the part's
        text between its slots and the row's values, which builds each email in one
        pass (a replace() per slot copied the whole email once per slot)."""
        suffix = "_html" if part == "html_body" else ""
        pieces = self._pieces(part)
        if len(pieces) == 1:
            return f"%(stencil_{part}_0)s"
        return "concat({})".format(
            ", ".join(
                f"%(stencil_{part}_{index})s::text" if index % 2 == 0 else f"{row}.{piece}{suffix}"
                for index, piece in enumerate(pieces)
            )
        )

    def sql_params(self) -> dict[str, str]:
        """The text between the slots, for fill_sql()."""
        return {
            f"stencil_{part}_{index}": piece
            for part in self.PARTS
            for index, piece in enumerate(self._pieces(part))
            if index % 2 == 0
        }
