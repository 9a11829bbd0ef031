"""All models; importing this package registers every table on ``Base.metadata``."""

from .accounts import RecoveryCode, UserSession
from .base import Base, utcnow
from .conference import (  # noqa: F401
    ConferenceEvent,
    ConferenceMeeting,
    ConferenceParticipant,
    ConferencePin,
    ConferenceRecording,
    ConferenceRoom,
    PinRole,
)
from .contracts import Contract, Licence, NumberBlock, PhoneNumber, Site
from .fax import (  # noqa: F401
    FaxDocument,
    FaxResolution,
    FaxSettings,
    FaxStatus,
    PreviewStatus,
    ReceivedFax,
    SentFax,
)
from .orders import Cart, CartItem, Order, OrderItem, OrderStatus, Product, ProductKind
from .org import (
    Customer,
    DataProcessingAgreement,
    ProductLine,
    Reseller,
    Role,
    RoleGrant,
    Tenant,
    TenantCustomer,
    User,
)
from .system import AuditEntry, DeliveryStatus, LoginThrottle, MailMessage, PlatformEvent, UserToken
from .ums import BoxVersion, EmailChangeCode, Service, ServiceAssignment, UmsProfile
from .voicemail import (  # noqa: F401
    GreetingKind,
    GreetingSource,
    GreetingStatus,
    VoicemailGreeting,
    VoicemailMessage,
    VoicemailMode,
    VoicemailSettings,
)

__all__ = [
    "AuditEntry",
    "Base",
    "BoxVersion",
    "Cart",
    "CartItem",
    "Contract",
    "Customer",
    "DataProcessingAgreement",
    "DeliveryStatus",
    "EmailChangeCode",
    "Licence",
    "LoginThrottle",
    "MailMessage",
    "NumberBlock",
    "Order",
    "OrderItem",
    "OrderStatus",
    "PhoneNumber",
    "PlatformEvent",
    "Product",
    "ProductKind",
    "ProductLine",
    "RecoveryCode",
    "Reseller",
    "Role",
    "RoleGrant",
    "Service",
    "ServiceAssignment",
    "Site",
    "Tenant",
    "TenantCustomer",
    "UmsProfile",
    "User",
    "UserSession",
    "UserToken",
    "utcnow",
]
