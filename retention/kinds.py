"""The kinds of notification and the sources of promo codes. The core stores each as
text; every feature registers the ones it adds (in its models module), so a new feature
adds its kinds without editing the core, and admin filters and forms list them all.

    SEASONAL_OFFER = NOTIFICATION_KINDS.register("seasonal", "Seasonal offer")
"""

from django.core.exceptions import ImproperlyConfigured


class KindRegistry:
    """Values (at most `max_length` characters) and their labels for staff."""

    def __init__(self, what: str, *, max_length: int):
        self.what = what
        self.max_length = max_length
        self._labels: dict[str, str] = {}

    def register(self, value: str, label: str) -> str:
        """Adds a kind and returns its value, for the feature to keep as a constant."""
        if len(value) > self.max_length:
            raise ImproperlyConfigured(f"The {self.what} {value!r} is longer than {self.max_length} characters.")
        if self._labels.get(value, label) != label:
            raise ImproperlyConfigured(f"The {self.what} {value!r} is registered twice with different labels.")
        self._labels[value] = label
        return value

    def choices(self) -> list[tuple[str, str]]:
        return sorted(self._labels.items(), key=lambda item: item[1])

    def label(self, value: str) -> str:
        return self._labels.get(value, value)

    def __contains__(self, value: str) -> bool:
        return value in self._labels


NOTIFICATION_KINDS = KindRegistry("notification kind", max_length=20)
PROMO_SOURCES = KindRegistry("promo code source", max_length=10)


# Callables for the model fields' `choices`: Django asks them when it needs the list, so
# kinds registered by apps loaded later are included and no migration follows a new kind.
def notification_kind_choices() -> list[tuple[str, str]]:
    return NOTIFICATION_KINDS.choices()


def promo_source_choices() -> list[tuple[str, str]]:
    return PROMO_SOURCES.choices()
