"""Revocation markers for every path that takes rights away (services, the admin, the shell):
a deleted token (also by cascade, or knox deleting an expired one), a user deactivated, demoted
or deleted, or whose password changed. Queryset `.update()` bypasses signals, so nothing in
the project takes rights away that way."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver

from accounts import revocation
from accounts.models import ApiToken

User = get_user_model()

_WATCHED_FIELDS = ("is_active", "is_staff", "is_superuser", "password")


@receiver(post_delete, sender=ApiToken, dispatch_uid="accounts.token_deleted")
def _token_deleted(sender, instance: ApiToken, **kwargs) -> None:
    revocation.token_revoked(digest=instance.digest)


@receiver(pre_save, sender=User, dispatch_uid="accounts.user_saved")
def _user_saved(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(_WATCHED_FIELDS):
        return  # e.g. last_login on every session login
    before = User.objects.filter(pk=instance.pk).values(*_WATCHED_FIELDS).first()
    if before is None:
        return
    if (
        (before["is_active"] and not instance.is_active)
        or (before["is_staff"] and not instance.is_staff)
        or (before["is_superuser"] and not instance.is_superuser)
        or before["password"] != instance.password
    ):
        revocation.user_changed(user_id=instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="accounts.user_deleted")
def _user_deleted(sender, instance, **kwargs) -> None:
    revocation.user_changed(user_id=instance.pk)
