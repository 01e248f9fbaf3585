"""`ringodesk serve setup`: the webhook secret and what to type into Ringostat's form.

The secret is kept like the profile's other secrets (the keyring, or the 0600 file with
``--insecure-storage``; ``RINGODESK_WEBHOOK_SECRET`` overrides). Ringostat documents no
signing of webhooks, so the secret travels in the URL's query (``key=``): the public URL
must be HTTPS (a reverse proxy, docs/serve.md) for it to stay one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ringodesk_cli.ringostat.api import fields_for
from ringodesk_cli.serve.app import WEBHOOK_PATH
from ringodesk_cli.serve.webhook import EVENTS

if TYPE_CHECKING:
    from ringodesk_cli.session import Session

SECRET_NAME = "webhook_secret"
# Ringostat's form names the call moments this way.
MOMENTS = {"before": "Before the call", "after": "After the call"}


@dataclass(frozen=True)
class WebhookForm:
    """What to fill in Ringostat's Webhooks 2.0 form, per event."""

    urls: dict[str, str]
    parameters: list[str]
    created: bool  # a new secret was made by this setup
    local: dict[str, str] = field(default_factory=dict)  # the same on serve.host:serve.port

    def as_dict(self) -> dict[str, Any]:
        return {**self.urls, "parameters": self.parameters, "local": self.local}

    def steps(self) -> list[dict[str, str]]:
        return [
            {
                "moment": MOMENTS[event],
                "url": url,
                "method": "POST",
                "format": "JSON",
                "parameters": ", ".join(self.parameters),
            }
            for event, url in self.urls.items()
        ]


def webhook_url(public_url: str, event: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}{WEBHOOK_PATH}?{urlencode({'event': event, 'key': secret})}"


def parameters(session: Session) -> list[str]:
    """The calls/list names to send: the fields `sync` asks calls/list for (so a call from a
    webhook and from the API is one record with one content hash), renamed where
    ``[serve.params]`` says Ringostat sends another name."""
    settings = session.settings
    wanted = fields_for({**settings.table("mapping.ticket"), **settings.table("mapping.contact")})
    sent_as = {name: sent for sent, name in settings.table("serve.params").items()}
    return [sent_as.get(name, name) for name in wanted]


def set_up(session: Session, *, public_url: str, rotate: bool = False) -> WebhookForm:
    """Creates the secret (unless one is stored and ``rotate`` is false) and saves
    ``serve.public_url``; returns what to type into Ringostat's form."""
    store = session.credentials
    secret = None if rotate else store.get(SECRET_NAME)
    created = secret is None
    if secret is None:
        secret = secrets.token_urlsafe(24)
        store.set(SECRET_NAME, secret)
    if session.settings.get("serve.public_url") != public_url:
        session.settings.set("serve.public_url", public_url)
        session.settings.save()
    urls = {event: webhook_url(public_url, event, secret) for event in EVENTS}
    # The server's own address, for a rehearsal (`sandbox webhooks --to`) on this machine.
    here = f"http://{session.settings.get('serve.host')}:{session.settings.get('serve.port')}"
    local = {event: webhook_url(here, event, secret) for event in EVENTS}
    return WebhookForm(urls=urls, parameters=parameters(session), created=created, local=local)
