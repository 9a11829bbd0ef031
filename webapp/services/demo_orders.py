"""Demo catalogue of the Bestellsystem: SIP trunk bundles, single IPfonie SIP-Trunks, voice
channels and the „Unified Messaging Paket“ (net prices in cents)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Product, ProductKind, ProductLine

CATALOGUE = [
    # code, kind, name, description, included voice channels, monthly, one-off
    ("ipfonie-sip-bundle-s", ProductKind.SIP_BUNDLE, "IPfonie SIP-Trunk-Bundle S",
     "SIP-Trunk mit 4 Sprachkanälen und 10 Durchwahlrufnummern", 4, 2990, 4900),
    ("ipfonie-sip-bundle-m", ProductKind.SIP_BUNDLE, "IPfonie SIP-Trunk-Bundle M",
     "SIP-Trunk mit 10 Sprachkanälen und 50 Durchwahlrufnummern", 10, 5990, 4900),
    ("ipfonie-sip-bundle-l", ProductKind.SIP_BUNDLE, "IPfonie SIP-Trunk-Bundle L",
     "SIP-Trunk mit 30 Sprachkanälen und 100 Durchwahlrufnummern", 30, 12990, 4900),
    ("ipfonie-sip-trunk", ProductKind.SIP_TRUNK, "IPfonie SIP-Trunk",
     "Einzelner SIP-Trunk, Sprachkanäle separat", None, 1990, 4900),
    ("ipfonie-sip-trunk-premium", ProductKind.SIP_TRUNK, "IPfonie SIP-Trunk Premium",
     "SIP-Trunk mit Georedundanz, Sprachkanäle separat", None, 3990, 9900),
    ("ipfonie-sprachkanal", ProductKind.VOICE_CHANNELS, "IPfonie Sprachkanal",
     "Ein gleichzeitiges Gespräch je Kanal", None, 290, 0),
    ("ums-paket", ProductKind.UMS_PACKAGE, "Unified Messaging Paket",
     "Fax, Anrufbeantworter und Konferenz für eine E-Mail-Adresse, bis zu drei Rufnummern", None, 490, 0),
]


def load(session: Session, refs) -> None:
    session.add_all(
        Product(code=code, kind=kind, name=name, description=description, default_voice_channels=channels,
                monthly_price_cents=monthly, one_off_price_cents=one_off, sort_order=n,
                product_line=ProductLine.IPFONIE)
        for n, (code, kind, name, description, channels, monthly, one_off) in enumerate(CATALOGUE)
    )
    session.flush()
