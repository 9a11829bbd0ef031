"""Anrufbeantworter (voicemail) of a UMS profile: settings and phone PIN, greetings, messages,
deposits from the telephony platform and the e-mail notification.

The voicemail answers on the number of the profile's ``Service.VOICEMAIL`` assignment. Audio is
kept in the media storage (``services.storage``) as 8 kHz mono 16-bit WAV; the browser copy is
made on first play and cached. Functions take the session and acting user explicitly and only
flush; the request (or job) commits.

What other boxes share lives in ``services.inbox`` (lists, undo, bulk), ``services.deposits``
(checking platform deposits) and ``services.links`` (mail links); this package re-exports the
names its callers have always used.
"""

from __future__ import annotations

from ...models import utcnow  # noqa: F401  (the clock of ``in_period``; tests set it here)
from .. import audio, mail, phone, platform, storage, tts  # noqa: F401
from ..deposits import EARLIEST_DEPOSIT  # noqa: F401
from ..inbox import MAX_ID, caller_digits, valid_id  # noqa: F401
from ..links import LinkExpired, external_url, local_time  # noqa: F401
from .deposits import MAX_DEPOSIT_SECONDS, DepositInput, deposit, deposit_generated  # noqa: F401
from .greetings import (  # noqa: F401
    GREETING_HELP,
    GREETING_LABELS,
    SOURCE_LABELS,
    GreetingSlot,
    activate_greeting,
    create_draft,
    discard_draft,
    greeting_of,
    greeting_slot,
    greeting_slots,
    in_period,
    set_absence_period,
    use_standard,
)
from .messages import (  # noqa: F401
    BOX,
    LIST_LOAD,
    PAGE_SIZE,
    UNDO_SECONDS,
    MessagePage,
    MessageQuery,
    csv_header,
    csv_rows,
    delete_messages,
    delete_profile_media,
    ensure_audio,
    iter_messages,
    list_messages,
    mark,
    message_of,
    new_count,
    playback,
    purge_deleted,
    read_audio,
    record_access,
    restore_messages,
)
from .notify import (  # noqa: F401
    LISTEN_LINK_MAX_AGE,
    delete_after_send,
    duration_text,
    listen_token,
    message_for_token,
    notify,
)
from .settings import (  # noqa: F401
    MODE_LABELS,
    PIN_LOCK,
    PIN_MAX_ATTEMPTS,
    PinResult,
    SettingsInput,
    VoicemailUnavailable,
    assignment,
    check_pin,
    normalize_number,
    notify_address,
    number_of,
    pin_locked,
    pin_problem,
    profile_for_number,
    set_pin,
    settings_of,
    update_settings,
)
