"""API tokens, stored as a digest only (django-rest-knox): a database dump or a backup alone does
not let anyone call the API. A user holds any number of named tokens, each with an optional
expiry."""

from django.db import models
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class ApiToken(AbstractAuthToken):
    # A surrogate key, so a token can be named in a URL (revocation) without its digest.
    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="api_token_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user}, {self.token_key}…)"
