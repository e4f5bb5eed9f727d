"""Who uses Retention: users log in by email; customers and providers are profiles."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


def short_name(name: str, email: str) -> str:
    """What emails call a person: the first word of their name, or their email."""
    words = name.split()
    return words[0] if words else email


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return short_name(self.name, self.email)


class Customer(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="customer")
    phone = models.CharField(max_length=40, blank=True)
    marketing_opt_in = models.BooleanField(
        default=True, help_text="Seasonal offers and win-back emails."
    )
    service_reminders_opt_in = models.BooleanField(
        default=True, help_text="Emails when a service is due again."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user__email"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.user.get_full_name()

    @property
    def email(self) -> str:
        return self.user.email


class Provider(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="provider")
    business_name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40)
    service_types = models.ManyToManyField("retention.ServiceType", related_name="providers")

    class Meta:
        ordering = ["business_name"]

    def __str__(self):
        return self.business_name
