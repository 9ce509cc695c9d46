"""Delivery through each contact method: Twilio SMS and voice (the `twilio` SDK), ntfy-style HTTP push or any
Apprise URL, and email over SMTP (`smtplib`). Each send returns a `Delivery`; nothing here raises."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.contacts.domain.rules import Method

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 10.0
VOICE_PATH = "/webhooks/twilio/voice"


class SenderSettings(BaseSettings):
    """TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, FIREWATCH_TWILIO_API_URL (tests),
    FIREWATCH_SMTP_URL (`smtp://user:password@host:port`, `smtps://...`, `?starttls=true`), FIREWATCH_SMTP_FROM."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    twilio_account_sid: str | None = Field(default=None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str | None = Field(default=None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN"))
    twilio_from_number: str | None = Field(default=None, validation_alias=AliasChoices("TWILIO_FROM_NUMBER"))
    twilio_api_url: str | None = Field(default=None, validation_alias=AliasChoices("FIREWATCH_TWILIO_API_URL"))
    smtp_url: str | None = Field(default=None, validation_alias=AliasChoices("FIREWATCH_SMTP_URL"))
    smtp_from: str | None = Field(default=None, validation_alias=AliasChoices("FIREWATCH_SMTP_FROM"))

    def missing_for(self, kind: str) -> str | None:
        """What is not configured for `kind`, as a sentence, or None."""
        if kind in ("sms", "voice"):
            names = [n for n, v in (("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                                    ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                                    ("TWILIO_FROM_NUMBER", self.twilio_from_number)) if not v]
            return f"Twilio is not configured: set {', '.join(names)}" if names else None
        if kind == "email" and not self.smtp_url:
            return "email is not configured: set FIREWATCH_SMTP_URL (like smtp://user:password@mail.example.com:587)"
        return None


@dataclass(frozen=True)
class Notice:
    """What to say: a short title, a longer text, and for calls where key presses are posted (None: no keys)."""

    title: str
    text: str
    voice_callback: str | None = None


@dataclass(frozen=True)
class Delivery:
    ok: bool
    detail: str = ""
    external_id: str | None = None

    @property
    def result(self) -> str:
        return "sent" if self.ok else "failed"


def send(settings: SenderSettings, method: Method, notice: Notice) -> Delivery:
    """Send `notice` by `method`; a failure is returned, never raised (the next method still gets its turn)."""
    missing = settings.missing_for(method.kind)
    if missing:
        return Delivery(False, missing)
    try:
        if method.kind == "sms":
            return _sms(settings, method.address, notice)
        if method.kind == "voice":
            return _call(settings, method.address, notice)
        if method.kind == "push":
            return _push(method.address, notice)
        if method.kind == "email":
            return _email(settings, method.address, notice)
    except Exception as exc:  # noqa: BLE001 - any provider error is one failed attempt, recorded with its reason
        log.warning("%s notification failed: %s", method.kind, exc.__class__.__name__)
        return Delivery(False, _reason(exc))
    return Delivery(False, f"unknown method {method.kind!r}")


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "msg", "") or exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:200]}" if text else exc.__class__.__name__


def twilio_client(settings: SenderSettings):
    from twilio.rest import Client

    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.twilio_api_url:
        client.api.base_url = settings.twilio_api_url.rstrip("/")
    return client


def _sms(settings: SenderSettings, to: str, notice: Notice) -> Delivery:
    message = twilio_client(settings).messages.create(to=to, from_=settings.twilio_from_number,
                                                      body=f"{notice.title}\n{notice.text}"[:1500])
    return Delivery(True, f"Twilio message {message.status or 'queued'}", message.sid)


def voice_twiml(notice: Notice) -> str:
    """The call's script: read the page, then take 1 (acknowledge) or 2 (escalate) when there is a callback."""
    from twilio.twiml.voice_response import Gather, VoiceResponse

    response = VoiceResponse()
    spoken = f"This is Firewatch. {notice.title}."
    if notice.voice_callback is None:
        response.say(spoken + " Open Slack to acknowledge.")
        return str(response)
    gather = Gather(num_digits=1, action=notice.voice_callback, method="POST", timeout=10)
    gather.say(spoken + " Press 1 to acknowledge, 2 to escalate.")
    response.append(gather)
    response.say("No key pressed. The page carries on. Goodbye.")
    return str(response)


def _call(settings: SenderSettings, to: str, notice: Notice) -> Delivery:
    call = twilio_client(settings).calls.create(to=to, from_=settings.twilio_from_number, twiml=voice_twiml(notice))
    detail = f"Twilio call {call.status or 'queued'}"
    if notice.voice_callback is None:
        detail += " (no FIREWATCH_PUBLIC_URL, so the call cannot take key presses)"
    return Delivery(True, detail, call.sid)


def _latin1(text: str) -> str:
    # HTTP header values are Latin-1; an alert title with an emoji must not make the push fail.
    return text.encode("latin-1", "replace").decode("latin-1")


def _push(url: str, notice: Notice) -> Delivery:
    if url.startswith(("http://", "https://")):
        response = httpx.post(url, content=notice.text.encode(), timeout=SEND_TIMEOUT_SECONDS,
                              headers={"Title": _latin1(notice.title[:250]), "Priority": "urgent",
                                       "Tags": "rotating_light"})
        if response.status_code >= 300:
            return Delivery(False, f"push server answered {response.status_code}")
        return Delivery(True, f"push server answered {response.status_code}")
    import apprise

    apobj = apprise.Apprise()
    if not apobj.add(url):
        return Delivery(False, "Apprise does not understand this URL")
    ok = apobj.notify(body=notice.text, title=notice.title)
    return Delivery(bool(ok), "sent through Apprise" if ok else "Apprise could not deliver")


def _email(settings: SenderSettings, to: str, notice: Notice) -> Delivery:
    parts = urlsplit(settings.smtp_url or "")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        return Delivery(False, "FIREWATCH_SMTP_URL must look like smtp://user:password@host:port")
    options = parse_qs(parts.query)
    sender = settings.smtp_from or f"firewatch@{parts.hostname}"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, notice.title[:200]
    message.set_content(notice.text)
    factory = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with factory(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25),
                 timeout=SEND_TIMEOUT_SECONDS) as smtp:
        if options.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        refused = smtp.send_message(message)
    if refused:
        return Delivery(False, f"the mail server refused {', '.join(refused)}")
    return Delivery(True, "accepted by the mail server")


def voice_callback_url(public_url: str | None, page_id: int, user_id: str) -> str | None:
    """Where Twilio posts the key press (needs the public URL Twilio can reach)."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}{VOICE_PATH}?{urlencode({'page': page_id, 'user': user_id})}"
