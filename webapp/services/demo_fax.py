"""Demo content of the fax for Anna Schmidt: settings, received faxes made from text (real G4
TIFFs deposited as the platform would), and two sent faxes (one sent, one busy after 3 tries)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ..models import FaxResolution, FaxSettings, FaxStatus, PreviewStatus, SentFax, utcnow
from . import storage

RECEIVED = [
    # (caller, station ID, minutes ago, read, text)
    ("+4940123456789", "+49 40 123456789", 50, False,
     "Spedition Nord GmbH\n\nLieferschein 2026-1187\n\nSehr geehrte Frau Schmidt,\nanbei der Lieferschein "
     "für die Sendung vom Montag. Bitte unterschreiben Sie ihn und faxen ihn zurück.\n\nMit freundlichen Grüßen\nJan Becker"),
    ("+493098765432", "PRAXIS DR WOLF", 60 * 28, True,
     "Praxis Dr. Wolf\n\nTerminbestätigung\n\nIhr Termin: Donnerstag, 10:30 Uhr.\nBitte bringen Sie Ihre "
     "Versichertenkarte mit.\n" + "\n".join(f"Hinweis {n}: Bitte beachten Sie die Hausordnung." for n in range(1, 45))),
]
SENT = [
    # (destination, minutes ago, status, attempts, reason, text)
    ("+49401234567", 90, FaxStatus.SENT, 1, None, "Bestellung Büromaterial\n\n10 x Ordner A4\n5 x Toner"),
    ("+49301234666", 60 * 3, FaxStatus.BUSY, 3, "Besetzt", "Rückfrage zur Rechnung 4711"),
]


def load(session: Session, refs) -> None:
    from .fax import documents, received, sending

    anna = refs.profiles["anna"]
    session.add(FaxSettings(profile_id=anna.id, email_enabled=False, header_line="Anna Schmidt, Muster GmbH",
                            station_id="+49 30 123456710"))
    session.flush()
    now = utcnow()
    for index, (caller, station, minutes, read, text) in enumerate(RECEIVED, start=1):
        fax = received.deposit_text(session, "+4930123456710", text, caller=caller, station_id=station,
                                    received_at=now - timedelta(minutes=minutes),
                                    platform_fax_id=f"demo-fax-anna-{index}")
        if read:
            fax.read_at = fax.received_at + timedelta(minutes=5)
    for index, (destination, minutes, status, attempts, reason, text) in enumerate(SENT, start=1):
        created = now - timedelta(minutes=minutes)
        fax = SentFax(profile_id=anna.id, destination_e164=destination, resolution=FaxResolution.FINE,
                      status=status, reason=reason, attempts=attempts, max_attempts=3,
                      header_line="Anna Schmidt, Muster GmbH", station_id="+49 30 123456710",
                      media_prefix=f"fax/{anna.id}/sent/demo-{index}", preview_status=PreviewStatus.READY,
                      preview_version=1, created_at=created, queued_at=created, status_changed_at=created,
                      platform_fax_id=f"demo-fax-out-{index}-{attempts}",
                      sent_at=created + timedelta(minutes=1) if status == FaxStatus.SENT else None)
        pages = documents.text_pages(text)
        fax.pages = len(pages)
        storage.stage(session, sending.body_key(fax), documents.tiff(pages, "fine"))
        fax.tiff_key = storage.stage(session, f"{fax.media_prefix}/fax-{attempts}.tif", documents.tiff(pages, "fine"))
        fax.report_key = storage.stage(session, f"{fax.media_prefix}/report.pdf", sending.report_pdf(fax, anna))
        session.add(fax)
    session.flush()
