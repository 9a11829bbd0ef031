"""The e-mail about a new message, its signed listen link and „delete after sending“."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...models import UmsProfile, VoicemailMessage, VoicemailSettings
from .. import mail, phone
from ..errors import NotFound
from ..links import SignedLink, external_url, local_time
from .messages import BOX
from .settings import notify_address

LISTEN_LINK_MAX_AGE = 7 * 24 * 3600

LISTEN_LINK = SignedLink(
    "voicemail-listen", LISTEN_LINK_MAX_AGE,
    _l("This link has expired (links are valid for 7 days). Please sign in to listen."),
)


def duration_text(duration_ms: int) -> str:
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"


def listen_token(message: VoicemailMessage) -> str:
    return LISTEN_LINK.dumps({"m": message.id, "p": message.profile_id})


def message_for_token(session: Session, token: str) -> VoicemailMessage:
    """The message of a signed listen link; expired or forged links are refused (410/404)."""
    payload = LISTEN_LINK.loads(token)
    message = session.get(VoicemailMessage, payload.get("m"))
    if message is None or message.profile_id != payload.get("p") or message.deleted_at is not None:
        raise NotFound(_l("This message does not exist or has been deleted."))
    return message


def notify(session: Session, profile: UmsProfile, settings: VoicemailSettings, message: VoicemailMessage,
           wav: bytes) -> None:
    caller = message.caller_e164
    attach = settings.attach_audio
    stamp = local_time(message.received_at).strftime("%Y%m%d-%H%M%S")
    mail.queue(
        session, notify_address(settings, profile), "voicemail_new_message",
        subject=_l("New voicemail message from %(caller)s", caller=CallerText(caller)),
        locale=profile.language or "de",
        attachment=(f"nachricht-{stamp}.wav", "audio/wav", wav) if attach else None,
        after_send=("voicemail.delete_after_send", message.id) if settings.delete_after_send else None,
        profile=profile, message=message, caller=caller, duration=duration_text(message.duration_ms),
        # the number with its extension set off, as everywhere (the deposit keeps only E.164)
        called=phone.numbers_by_e164(session, [message.called_e164]).get(message.called_e164, message.called_e164),
        attached=attach, delete_after_send=settings.delete_after_send,
        signin_link=external_url("voicemail.index", profile_id=profile.id) + f"#vm-msg-{message.id}",
        listen_link=external_url("voicemail.listen", token=listen_token(message)),
    )


class CallerText:
    """Lazily formatted caller for a lazy subject (rendered in the recipient's language)."""

    def __init__(self, e164: str | None):
        self.e164 = e164

    def __str__(self) -> str:
        return phone.display(self.e164) if self.e164 else str(_l("Unbekannt"))


def delete_after_send(session: Session, message_id: int) -> None:
    """Mail hook: the notification with the audio was accepted, so the message goes."""
    BOX.remove_one(session, message_id)


mail.AFTER_SEND_HOOKS["voicemail.delete_after_send"] = delete_after_send
