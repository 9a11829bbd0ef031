"""UMS profiles (domain.md §2–3): the admin's profile list, create against a free licence,
edit, delete, and the invitation that gives the person their UMS user login.

Every change is authorised through ``authz``, writes the audit log and, where the telephony
platform must know, a provisioning event — all in the caller's transaction (services only flush).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property, lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from ..models import (
    Contract,
    Customer,
    Licence,
    PhoneNumber,
    Role,
    RoleGrant,
    Service,
    ServiceAssignment,
    Site,
    UmsProfile,
    User,
)
from . import accounts, audit, authz, mail, platform
from .contracts import LicenceLine, licence_lines
from .errors import AccessDenied, EmailTaken, LicenceExhausted, NotFound, ValidationFailed

INVITATION_VALIDITY = timedelta(days=7)
PER_PAGE = 25
LANGUAGES = ("de", "en")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database; larger ones name nothing


def valid_id(value) -> bool:
    """Whether ``value`` can be a row id: a garbage id from a URL or a form must not reach SQL
    (SQLite overflows, PostgreSQL refuses it out of range: a 500 either way)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID

# Other areas (voicemail, fax, conference) register functions here that remove their files for a
# profile; their rows hang off ums_profiles with ON DELETE CASCADE. Called before the delete.
BEFORE_PROFILE_DELETE: list[Callable[[Session, UmsProfile], None]] = []


# --- reading -------------------------------------------------------------------------------------

PAGE_SIZES = (10, 25, 50, 100)
# Sort keys of the profile list (kept in the URL as ``sort`` and ``dir``).
SORT_KEYS = ("name", "email", "site", "access")


@dataclass(frozen=True)
class ProfileFilter:
    q: str = ""
    contract_id: int | None = None
    site_id: int | None = None
    page: int = 1
    per_page: int = PER_PAGE
    sort: str = "name"
    descending: bool = False

    @classmethod
    def parse(cls, q: str = "", contract_id: int | None = None, site_id: int | None = None,
              page: int | None = None, per_page: int | None = None, sort: str | None = None,
              direction: str | None = None) -> ProfileFilter:
        """A filter from URL parameters; unknown values fall back to the defaults."""
        return cls(q=q, contract_id=contract_id, site_id=site_id, page=page or 1,
                   per_page=per_page if per_page in PAGE_SIZES else PER_PAGE,
                   sort=sort if sort in SORT_KEYS else "name", descending=direction == "desc")

    def args(self, **overrides) -> dict:
        """The URL parameters of this state (defaults left out), for links and the CSV export."""
        values = {"q": self.q or None, "contract": self.contract_id, "site": self.site_id,
                  "sort": None if self.sort == "name" else self.sort, "dir": "desc" if self.descending else None,
                  "size": None if self.per_page == PER_PAGE else self.per_page,
                  "page": None if self.page == 1 else self.page}
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class ProfilePage:
    """One page of the profile list plus everything the overview shows around it. The contracts
    and licence lines are read on first use: the list's htmx fragment shows neither (its rows
    come with their contract and site)."""

    rows: list[ProfileRow]
    total: int
    filter: ProfileFilter
    customers: list[Customer]
    session: Session
    user: User
    refused: list[tuple[Customer, str]] = field(default_factory=list)
    # Reseller duty: end customers whose UMS users have not yet set a password.
    awaiting_access: dict[int, int] = field(default_factory=dict)

    @cached_property
    def contracts(self) -> list[Contract]:
        return manageable_contracts(self.session, self.user, self.customers)

    @cached_property
    def licences(self) -> dict[int, LicenceLine]:
        return licence_lines(self.session, [c.id for c in self.contracts])

    @property
    def pages(self) -> int:
        return max((self.total + self.filter.per_page - 1) // self.filter.per_page, 1)

    @property
    def has_previous(self) -> bool:
        return self.filter.page > 1

    @property
    def has_next(self) -> bool:
        return self.filter.page < self.pages

    @property
    def customers_by_id(self) -> dict[int, Customer]:
        return {c.id: c for c in self.customers}


def manageable_contracts(session: Session, user: User,
                         customers: list[Customer] | None = None) -> list[Contract]:
    """Contracts of every customer whose UMS the user may manage, with their sites."""
    if customers is None:
        customers = authz.customers_with_ums_access(session, user)
    if not customers:
        return []
    # Their customers are in the session already (``contract.customer`` needs no query).
    return list(session.scalars(
        select(Contract).where(Contract.customer_id.in_([c.id for c in customers]))
        .options(joinedload(Contract.sites)).order_by(Contract.number)
    ).unique())


def refusal_without_customers(session: Session, user: User):
    """Why a user who may manage no customer's UMS gets nothing here: for tenant staff the data
    protection reason (the AVV) of the customers they look after, else the role that is needed."""
    refused = _refused_customers(session, user, [])
    if refused:
        return refused[0][1]
    return authz.can_administer_ums(session, user).reason or _l(
        "The UMS administration needs the role „Kunde – IPfonie Administrator“ or „Kunde – Centraflex Administrator“ for a customer.")


def creatable_contracts(session: Session, user: User) -> list[Contract]:
    """The contracts „Unified Messaging Profil anlegen“ offers; refused (with the reason) if none."""
    contracts = manageable_contracts(session, user)
    if not contracts:
        raise AccessDenied(refusal_without_customers(session, user))
    return contracts


def _refused_customers(session: Session, user: User, allowed: list[Customer]) -> list[tuple[Customer, str]]:
    """Customers tenant staff look after but may not manage, with the reason (the AVV)."""
    if user.tenant_id is None:
        return []
    allowed_ids = {c.id for c in allowed}
    return [(c, authz.can_manage_ums(session, user, c).reason)
            for c in authz.looked_after_customers(session, user) if c.id not in allowed_ids]


def _awaiting_access(session: Session, user: User, customers: list[Customer]) -> dict[int, int]:
    """For reseller staff: per end customer, how many UMS users have not set a password yet."""
    if user.reseller_id is None or not customers:
        return {}
    return dict(session.execute(
        select(UmsProfile.customer_id, func.count())
        .join(User, User.id == UmsProfile.user_id)
        .where(UmsProfile.customer_id.in_([c.id for c in customers]), User.password_set_at.is_(None))
        .group_by(UmsProfile.customer_id)
    ).all())


def printable(value: str | None) -> str:
    """Text without control characters (NUL and the like): they have no place in a name or a
    search, and PostgreSQL refuses NUL outright."""
    return "".join(ch for ch in (value or "") if ch.isprintable() or ch.isspace())


@dataclass(frozen=True)
class ListShape:
    """What the list's statements look like for a filter (its values travel as parameters): the
    statements are built once per shape (``_list_statements``), not once per request."""

    contract: str  # "any", "one" (parameter ``contract``) or "none" (an id that cannot exist)
    site: str
    search: int  # 0 no search, 1 one word, 2 several words (parameters ``names``, ``like``)
    sort: str
    descending: bool


def _shape_of(customers: list[Customer], flt: ProfileFilter) -> tuple[ListShape, dict]:
    params: dict = {"customers": [c.id for c in customers]}

    def by_id(value, name: str) -> str:
        if value is None:
            return "any"
        if not valid_id(value):  # an id that cannot exist matches nothing (never an overflow in SQL)
            return "none"
        params[name] = value
        return "one"

    contract, site = by_id(flt.contract_id, "contract"), by_id(flt.site_id, "site")
    search = 0
    term = printable(flt.q).strip().lower()
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # "Anna Schmidt", "Schmidt Anna" and "Schmidt, Anna" (as the list shows it) all find her;
        # e-mails are stored lower case.
        words = escaped.replace(",", " ").split()
        params.update(names="%" + " ".join(words) + "%", like=f"%{escaped}%")
        search = 2 if len(words) > 1 else 1  # one word is in "last first" exactly when in "first last"
    return ListShape(contract, site, search, flt.sort, flt.descending), params


@lru_cache(maxsize=256)
def _list_condition(shape: ListShape):
    conditions = [UmsProfile.customer_id.in_(bindparam("customers", expanding=True))]
    for column, state, name in ((UmsProfile.contract_id, shape.contract, "contract"),
                                (UmsProfile.site_id, shape.site, "site")):
        if state == "one":
            conditions.append(column == bindparam(name))
        elif state == "none":
            conditions.append(false())
    if shape.search:
        first_last = func.lower(UmsProfile.first_name + " " + UmsProfile.last_name)
        found = [first_last.like(bindparam("names"), escape="\\"),
                 UmsProfile.email_normalized.like(bindparam("like"), escape="\\")]
        if shape.search > 1:
            found.append(func.lower(UmsProfile.last_name + " " + UmsProfile.first_name)
                         .like(bindparam("names"), escape="\\"))
        conditions.append(or_(*found))
    return and_(*conditions)


@lru_cache(maxsize=256)
def _list_statements(shape: ListShape) -> tuple:
    """The list's COUNT and its page (parameters ``limit``, ``offset``): the page's ids first, in
    the list's order (read from an index for the usual order), then only those rows joined to
    contract, site, login and each service's number (a column each), with the COUNT as a subquery
    the database runs once."""
    where = _list_condition(shape)
    count = select(func.count()).select_from(UmsProfile).where(where)
    page = (_sorted(select(UmsProfile.id).where(where), shape)
            .limit(bindparam("limit")).offset(bindparam("offset")).subquery())
    joined = [(aliased(ServiceAssignment), aliased(PhoneNumber)) for _service in Service]
    query = (select(UmsProfile.id, UmsProfile.customer_id, UmsProfile.last_name, UmsProfile.first_name,
                    UmsProfile.email_normalized, Contract.number, Site.name, User.password_set_at.is_not(None),
                    count.scalar_subquery().label("total"),
                    *[column.label(f"{service.value}_{column.key}")
                      for service, (_a, n) in zip(Service, joined, strict=True) for column in (n.e164, n.extension)])
             .select_from(page).join(UmsProfile, UmsProfile.id == page.c.id)
             .join(Contract, Contract.id == UmsProfile.contract_id).join(Site, Site.id == UmsProfile.site_id)
             .join(User, User.id == UmsProfile.user_id))
    for service, (assignment, phone_number) in zip(Service, joined, strict=True):
        query = (query.outerjoin(assignment, and_(assignment.profile_id == UmsProfile.id, assignment.service == service))
                 .outerjoin(phone_number, phone_number.id == assignment.number_id))
    return count, query.order_by(*_sort_keys(shape))


def list_profiles(session: Session, user: User, flt: ProfileFilter) -> ProfilePage:
    """The profiles the user may manage, filtered, searched and paginated.

    One query whatever the page size or table size: the page with contracts, sites, logins and
    numbers, and the total as a subquery (a window count would make the database number every
    profile: 7–20 ms at 10,000 profiles, against 0.3 ms for the COUNT and 0.06–0.35 ms for an
    index-ordered page). An empty page (no profile, a page past the end) reads the COUNT on its
    own, past the end then the last page. The full page reads its contracts and licence lines
    (``ProfilePage``).
    """
    customers = authz.customers_with_ums_access(session, user)
    page = ProfilePage(rows=[], total=0, filter=flt, customers=customers, session=session, user=user,
                       refused=_refused_customers(session, user, customers),
                       awaiting_access=_awaiting_access(session, user, customers))
    if not customers:
        return page
    shape, params = _shape_of(customers, flt)
    count, rows = _list_statements(shape)
    number = min(max(flt.page, 1), MAX_ID // flt.per_page)  # a garbage page number is past the end
    page.rows, page.total = _rows_of_page(session, rows, params, flt.per_page, number)
    if not page.rows:  # no profile, or a page past the end: the COUNT alone, then the last page
        page.total = session.scalar(count, params) or 0
        if page.total and number > page.pages:
            number = page.pages
            page.rows, _total = _rows_of_page(session, rows, params, flt.per_page, number)
        number = min(number, page.pages)
    if number != flt.page:
        page.filter = replace(flt, page=number)
    return page


@dataclass(frozen=True)
class ListedNumber:
    """A number as the list shows it (``|phone`` sets off the extension)."""

    e164: str
    extension: str | None


@dataclass(frozen=True)
class ProfileRow:
    """One row of the profile list, read as columns: building ORM objects (profile, login,
    contract, site, three assignments and numbers) cost more than the query itself."""

    id: int
    customer_id: int
    last_name: str
    first_name: str
    email_normalized: str
    contract_number: str
    site_name: str
    has_password: bool
    numbers: dict[str, ListedNumber]  # Service value → its number (services without one: absent)


def _rows_of_page(session: Session, statement, params: dict, per_page: int, number: int) -> tuple[list[ProfileRow], int]:
    """The rows of page ``number`` and the list's total (0 when the page is empty)."""
    found = session.execute(statement, {**params, "limit": per_page, "offset": (number - 1) * per_page}).all()
    rows = []
    for row in found:
        columns = row._mapping
        numbers = {s.value: ListedNumber(columns[f"{s.value}_e164"], columns[f"{s.value}_extension"])
                   for s in Service if columns[f"{s.value}_e164"]}
        rows.append(ProfileRow(*row[:8], numbers=numbers))
    return rows, (found[0].total if found else 0)


def _sorted(query, flt: ProfileFilter | ListShape):
    """``query`` (of profiles) in the list's order, joined to what the order needs."""
    if flt.sort == "site":
        query = query.join(Site, Site.id == UmsProfile.site_id).join(Contract, Contract.id == UmsProfile.contract_id)
    elif flt.sort == "access":
        query = query.join(User, User.id == UmsProfile.user_id)
    return query.order_by(*_sort_keys(flt))


def _sort_keys(flt: ProfileFilter | ListShape) -> list:
    """The list's order: by the chosen column, then by name and id so pages never overlap
    (contract, site and login columns need their tables joined)."""
    name = [func.lower(UmsProfile.last_name), func.lower(UmsProfile.first_name)]
    if flt.sort == "email":
        keys = [UmsProfile.email_normalized]
    elif flt.sort == "site":
        keys = [Contract.number, func.lower(Site.name)]
    elif flt.sort == "access":
        keys = [User.password_set_at.is_not(None)]  # invited (no password yet) before active, ascending
    else:
        keys = []
    return [k.desc() if flt.descending else k for k in keys + name + [UmsProfile.id]]


def iter_profiles(session: Session, user: User, flt: ProfileFilter, batch: int = 500):
    """Every profile the list with ``flt`` shows (all pages, in its order), fetched in batches so an
    export of 10,000 rows never holds them all: (profile, {service: PhoneNumber}) pairs."""
    customers = authz.customers_with_ums_access(session, user)
    if not customers:
        return
    shape, params = _shape_of(customers, flt)
    statement = (_sorted(select(UmsProfile).where(_list_condition(shape)), shape)
                 .options(selectinload(UmsProfile.assignments).joinedload(ServiceAssignment.number),
                          selectinload(UmsProfile.user), selectinload(UmsProfile.site),
                          selectinload(UmsProfile.contract)))
    last_offset = 0
    while True:
        rows = list(session.scalars(statement.limit(batch).offset(last_offset), params))
        for profile in rows:
            yield profile, {a.service: a.number for a in profile.assignments if a.number is not None}
        if len(rows) < batch:
            return
        last_offset += batch


def get_for_admin(session: Session, user: User, profile_id: int) -> UmsProfile:
    """Load a profile (404) and check the user may manage its customer's UMS (403)."""
    profile = session.get(UmsProfile, profile_id) if valid_id(profile_id) else None
    if profile is None:
        raise NotFound(_l("This UMS profile does not exist or has been deleted."))
    authz.can_manage_ums(session, user, profile.customer).require()
    return profile


def contract_for_admin(session: Session, user: User, contract_id: int | None) -> Contract:
    contract = session.get(Contract, contract_id) if valid_id(contract_id) else None
    if contract is None:
        raise ValidationFailed(_l("Please choose a contract."), field="contract_id")
    authz.can_manage_ums(session, user, contract.customer).require()
    return contract


def licence_line(session: Session, contract: Contract) -> LicenceLine:
    return licence_lines(session, [contract.id])[contract.id]


def has_assigned_numbers(session: Session, profile: UmsProfile) -> bool:
    return bool(session.scalar(select(exists().where(
        ServiceAssignment.profile_id == profile.id, ServiceAssignment.number_id.is_not(None)))))


def invitation_pending(profile: UmsProfile) -> bool:
    return profile.user.password_set_at is None


# --- writing -------------------------------------------------------------------------------------

def _clean_name(value: str | None, field_name: str, message) -> str:
    cleaned = " ".join(printable(value).split())
    if not cleaned:
        raise ValidationFailed(message, field=field_name)
    if len(cleaned) > 100:
        raise ValidationFailed(_l("At most 100 characters, please."), field=field_name)
    return cleaned


def email_in_use(session: Session, normalized: str, except_user_id: int | None = None) -> bool:
    """Platform-wide uniqueness („eineindeutig“): among profiles and among logins."""
    in_profiles = select(UmsProfile.id).where(UmsProfile.email_normalized == normalized)
    in_users = select(User.id).where(func.lower(User.email) == normalized)
    if except_user_id is not None:
        in_profiles = in_profiles.where(UmsProfile.user_id != except_user_id)
        in_users = in_users.where(User.id != except_user_id)
    return bool(session.scalar(select(or_(exists(in_profiles), exists(in_users)))))


def email_taken_error(email: str) -> EmailTaken:
    return EmailTaken(
        _l("The e-mail address %(email)s is already used on the UMS platform. Each profile needs an address of its own: please enter a different one.",
           email=email),
        field="email",
    )


def licence_exhausted_error(contract: Contract, line: LicenceLine) -> LicenceExhausted:
    return LicenceExhausted(
        _l("All %(total)d UMS licences of contract %(contract)s are in use. Order more „Unified Messaging Paket“ licences for this contract (Nachbestellung), or delete a profile that is no longer needed.",
           total=line.total, contract=contract.number),
        field="licence",
    )


def _lock_contract(session: Session, contract: Contract) -> None:
    """Serialise creates per contract: the licence count cannot be exceeded by parallel requests.
    (SQLite takes the database write lock at BEGIN; the unique licence_id backs both.)"""
    session.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update())


def _free_licences(session: Session, contract: Contract, count: int) -> list[Licence]:
    taken = select(UmsProfile.licence_id).where(UmsProfile.licence_id == Licence.id)
    return list(session.scalars(
        select(Licence).where(Licence.contract_id == contract.id, ~exists(taken))
        .order_by(Licence.id).limit(count)
    ))


def _emails_in_use(session: Session, normalized: list[str]) -> set[str]:
    """Which of these addresses profiles or logins already use (two queries per 500)."""
    found: set[str] = set()
    for start in range(0, len(normalized), 500):
        chunk = normalized[start:start + 500]
        found.update(session.scalars(select(UmsProfile.email_normalized)
                                     .where(UmsProfile.email_normalized.in_(chunk))))
        found.update(session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(chunk))))
    return found


@dataclass(frozen=True)
class NewProfile:
    """What „Unified Messaging Profil anlegen“ (or one row of a CSV import) asks for."""

    contract_id: int | None
    site_id: int | None
    last_name: str
    first_name: str
    email: str
    language: str = "de"


def create_profile(session: Session, actor: User, *, contract_id: int | None, site_id: int | None,
                   last_name: str, first_name: str, email: str, language: str = "de") -> UmsProfile:
    """„Unified Messaging Profil anlegen“: a profile on a free licence, its UMS user login and the
    invitation to set a password."""
    return create_profiles(session, actor, [NewProfile(contract_id, site_id, last_name, first_name, email,
                                                       language)])[0]


def create_profiles(session: Session, actor: User, items: list[NewProfile]) -> list[UmsProfile]:
    """Create every profile or none (the first refusal raises): each on a free licence of its
    contract, with its UMS user login and invitation. The rows are written in batches, so a
    thousand profiles take a few statements each, not a dozen."""
    contracts: dict[int, Contract] = {}
    prepared = []
    for item in items:
        contract = contracts.get(item.contract_id) if item.contract_id is not None else None
        if contract is None:
            contract = contract_for_admin(session, actor, item.contract_id)
            contracts[contract.id] = contract
        site = next((s for s in contract.sites if s.id == item.site_id), None) if valid_id(item.site_id) else None
        if site is None:
            raise ValidationFailed(_l("Please choose a site of contract %(contract)s.", contract=contract.number),
                                   field="site_id")
        last = _clean_name(item.last_name, "last_name", _l("Please enter the name."))
        first = _clean_name(item.first_name, "first_name", _l("Please enter the first name."))
        normalized = accounts.normalize_email(item.email)
        language = item.language if item.language in LANGUAGES else "de"
        prepared.append((item, contract, site, last, first, normalized, language))

    for contract in contracts.values():
        _lock_contract(session, contract)
    addresses = [p[5] for p in prepared]
    taken = _emails_in_use(session, addresses)
    duplicate = next((a for i, a in enumerate(addresses) if a in taken or a in addresses[:i]), None)
    if duplicate is not None:
        raise email_taken_error(duplicate)
    licences: dict[int, list[Licence]] = {}
    for contract in contracts.values():
        needed = sum(1 for p in prepared if p[1] is contract)
        licences[contract.id] = _free_licences(session, contract, needed)
        if len(licences[contract.id]) < needed:
            raise licence_exhausted_error(contract, licence_line(session, contract))

    try:
        with session.begin_nested():
            users = [User(email=normalized, display_name=f"{first} {last}", password_hash=None, locale=language)
                     for _item, _contract, _site, last, first, normalized, language in prepared]
            session.add_all(users)
            session.flush()
            session.add_all(RoleGrant(user_id=user.id, role=Role.UMS_USER, customer_id=p[1].customer_id)
                            for user, p in zip(users, prepared, strict=True))
            created = []
            for user, (item, contract, site, last, first, normalized, language) in zip(users, prepared, strict=True):
                created.append(UmsProfile(
                    customer_id=contract.customer_id, contract_id=contract.id, site_id=site.id,
                    licence_id=licences[contract.id].pop(0).id, user_id=user.id, last_name=last, first_name=first,
                    email=(item.email or "").strip(), email_normalized=normalized, language=language,
                    created_by_id=actor.id, user=user, contract=contract, site=site,
                ))
            session.add_all(created)
            session.flush()
    except IntegrityError as exc:
        # A parallel request won the race for an address or a licence.
        raced = _emails_in_use(session, addresses)
        if raced:
            raise email_taken_error(next(a for a in addresses if a in raced)) from exc
        contract = next(iter(contracts.values()))
        raise licence_exhausted_error(contract, licence_line(session, contract)) from exc

    for profile, (_item, contract, site, last, first, normalized, _language) in zip(created, prepared, strict=True):
        audit.record(session, actor, "profile.created", customer_id=contract.customer_id,
                     profile_id=profile.id, subject=_subject(profile), contract=contract.number,
                     site=site.name, email=normalized)
        platform.emit(session, "profile.created", profile_id=profile.id, customer=contract.customer.number,
                      contract=contract.number, site=site.name, email=normalized,
                      first_name=first, last_name=last)
    session.flush()  # the audit entries and events in one batch each, before the invitations' own flushes
    for profile in created:
        _send_invitation(session, actor, profile)
    return created


def _subject(profile: UmsProfile) -> str:
    return f"{profile.first_name} {profile.last_name} <{profile.email_normalized}>"


def _public_url(endpoint: str, **values) -> str:
    adapter = current_app.url_map.bind("localhost", url_scheme="http")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + path


def _send_invitation(session: Session, actor: User, profile: UmsProfile) -> None:
    token = accounts.issue_token(session, profile.user, "set_password", INVITATION_VALIDITY)
    mail.queue(
        session, profile.email_normalized, "profile_invitation",
        subject=_l("Your UMS access: please set your password"), locale=profile.language,
        profile=profile, customer=profile.customer, inviter=actor,
        link=_public_url("auth.set_password", token=token), valid_days=INVITATION_VALIDITY.days,
    )


def resend_invitation(session: Session, actor: User, profile: UmsProfile) -> None:
    """A new one-time link (earlier ones stop working); only while no password is set."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    if not invitation_pending(profile):
        raise ValidationFailed(
            _l("%(name)s has already set a password and can sign in; an invitation is no longer needed.",
               name=profile.full_name))
    _send_invitation(session, actor, profile)
    audit.record(session, actor, "profile.invitation_sent", customer_id=profile.customer_id,
                 profile_id=profile.id, subject=_subject(profile))
    session.flush()


def update_profile(session: Session, actor: User, profile: UmsProfile, *, last_name: str,
                   first_name: str, site_id: int | None) -> UmsProfile:
    """„Unified Messaging Profil bearbeiten“: name, first name, and the site while no number is
    assigned (numbers belong to a site)."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    last = _clean_name(last_name, "last_name", _l("Please enter the name."))
    first = _clean_name(first_name, "first_name", _l("Please enter the first name."))
    # Lock the profile: a parallel number assignment waits, so "no number assigned" stays true.
    session.refresh(profile, with_for_update=True)
    changes: dict[str, list[str]] = {}
    if site_id and site_id != profile.site_id:
        site = session.get(Site, site_id) if valid_id(site_id) else None
        if site is None or site.contract_id != profile.contract_id:
            raise ValidationFailed(_l("Please choose a site of contract %(contract)s.",
                                      contract=profile.contract.number), field="site_id")
        if has_assigned_numbers(session, profile):
            raise ValidationFailed(site_locked_reason(), field="site_id")
        changes["site"] = [profile.site.name, site.name]
        profile.site_id = site.id
        profile.site = site
    if last != profile.last_name:
        changes["last_name"] = [profile.last_name, last]
        profile.last_name = last
    if first != profile.first_name:
        changes["first_name"] = [profile.first_name, first]
        profile.first_name = first
    if changes:
        profile.user.display_name = f"{first} {last}"
        audit.record(session, actor, "profile.updated", customer_id=profile.customer_id,
                     profile_id=profile.id, subject=_subject(profile), changes=changes)
        if "site" in changes:
            platform.emit(session, "profile.site_changed", profile_id=profile.id, site=profile.site.name)
    session.flush()
    return profile


def site_locked_reason():
    return _l("The site can only be changed while no number is assigned: the numbers belong to the site. Release the numbers under „Services and numbers“ first.")


def delete_profile(session: Session, actor: User, profile: UmsProfile) -> None:
    """Delete a profile: frees its licence and numbers, removes its messages and files, and its
    UMS user login (or only the UMS role, if that login has other roles)."""
    authz.can_manage_ums(session, actor, profile.customer).require()
    for hook in BEFORE_PROFILE_DELETE:
        hook(session, profile)
    released = [a.number.e164 for a in profile.assignments if a.number is not None]
    user = profile.user
    customer_number = profile.customer.number
    audit.record(session, actor, "profile.deleted", customer_id=profile.customer_id, profile_id=profile.id,
                 subject=_subject(profile), numbers_released=released)
    platform.emit(session, "profile.deleted", profile_id=profile.id, customer=customer_number,
                  email=profile.email_normalized, numbers_released=released)
    session.delete(profile)
    session.flush()
    other_roles = [g for g in user.grants if not (g.role == Role.UMS_USER and g.customer_id == profile.customer_id)]
    if other_roles:
        for grant in list(user.grants):
            if grant.role == Role.UMS_USER and grant.customer_id == profile.customer_id:
                user.grants.remove(grant)
    else:
        session.delete(user)
    session.flush()
