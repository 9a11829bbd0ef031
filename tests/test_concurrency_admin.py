"""Under parallel requests on PostgreSQL the licence count and the one-service-per-number rule
hold: 20 creates for 1 free licence give one profile, 20 assignments of one number give one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import login
from tests.parallel import run_at_once

pytestmark = pytest.mark.postgres
PARALLEL = 20


def _setup(app, licences: int, profiles: int = 0):
    """A contract of Muster GmbH with ``licences`` licences and ``profiles`` profiles on its site."""
    from webapp.extensions import db
    from webapp.models import Customer
    from webapp.services import demo

    with app.app_context():
        session = db.session
        muster = session.scalar(select(Customer).where(Customer.number == "K-100001"))
        contract, site = factories.contract(session, muster, licences=licences, numbers=10)
        ids = [demo.add_profile(session, contract, site, f"P{n}", "Parallel", f"p{n}.{contract.id}@conc.example",
                                None).id for n in range(profiles)]
        session.commit()
        return contract.id, site.id, ids


def _in_parallel(app, send) -> list[int]:
    """Sign in ``PARALLEL`` clients, then let them all send at once; return the status codes."""
    clients = [login(app.test_client(), "admin@muster.example") for _ in range(PARALLEL)]
    return run_at_once(PARALLEL, lambda n: send(clients[n], n).status_code)


def test_parallel_creates_cannot_exceed_the_licences(pg_app):
    from webapp.extensions import db
    from webapp.models import UmsProfile

    contract_id, site_id, _ = _setup(pg_app, licences=1)

    def create(client, n):
        return client.post("/ums/profiles/new", data={
            "contract_id": contract_id, "site_id": site_id, "last_name": "Rennen", "first_name": f"R{n}",
            "email": f"race{n}.{contract_id}@conc.example", "language": "de"})

    statuses = _in_parallel(pg_app, create)
    assert sorted(statuses) == [303] + [422] * (PARALLEL - 1)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UmsProfile)
                                 .where(UmsProfile.contract_id == contract_id)) == 1


def test_parallel_creates_with_one_address_give_one_profile(pg_app):
    from webapp.extensions import db
    from webapp.models import UmsProfile

    contract_id, site_id, _ = _setup(pg_app, licences=PARALLEL)

    def create(client, n):
        return client.post("/ums/profiles/new", data={
            "contract_id": contract_id, "site_id": site_id, "last_name": "Gleich", "first_name": f"G{n}",
            "email": f"Same.{contract_id}@Conc.example" if n % 2 else f"same.{contract_id}@conc.example",
            "language": "de"})

    statuses = _in_parallel(pg_app, create)
    assert sorted(statuses) == [303] + [422] * (PARALLEL - 1)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UmsProfile)
                                 .where(UmsProfile.contract_id == contract_id)) == 1


def test_parallel_assignments_of_one_number_give_one_assignment(pg_app):
    from webapp.extensions import db
    from webapp.models import PhoneNumber, ServiceAssignment

    contract_id, site_id, profile_ids = _setup(pg_app, licences=PARALLEL, profiles=PARALLEL)
    with pg_app.app_context():
        number_id = db.session.scalar(select(PhoneNumber.id).where(PhoneNumber.site_id == site_id)
                                      .order_by(PhoneNumber.id).limit(1))

    def assign(client, n):
        return client.post(f"/ums/profiles/{profile_ids[n]}/services/fax", data={"number_id": number_id})

    statuses = _in_parallel(pg_app, assign)
    assert sorted(statuses) == [303] + [409] * (PARALLEL - 1)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceAssignment)
                                 .where(ServiceAssignment.number_id == number_id)) == 1


def test_a_site_change_and_a_number_assignment_in_parallel_never_mix_sites(pg_app):
    """While one request moves a profile to another site, an assignment of a number of the old
    site waits for it and is then refused: a number never serves a profile of another site."""
    import threading

    from webapp.extensions import db
    from webapp.models import Contract, PhoneNumber, Service, ServiceAssignment, UmsProfile, User
    from webapp.services import demo, numbers, profiles
    from webapp.services.errors import ValidationFailed

    contract_id, old_site_id, (profile_id,) = _setup(pg_app, licences=1, profiles=1)
    with pg_app.app_context():
        session = db.session
        new_site = demo.add_site(session, session.get(Contract, contract_id), "Neuer Standort", "+4989777000", 0, 9)
        session.commit()
        new_site_id = new_site.id
        number_id = session.scalar(select(PhoneNumber.id).where(PhoneNumber.site_id == old_site_id).limit(1))

    outcome: dict = {}

    def assign_old_site_number():
        with pg_app.app_context():
            session = db.new_session()
            try:
                admin = session.scalar(select(User).where(User.email == "admin@muster.example"))
                numbers.assign_number(session, admin, session.get(UmsProfile, profile_id), Service.FAX, number_id)
                session.commit()
                outcome["result"] = "assigned"
            except ValidationFailed:
                session.rollback()
                outcome["result"] = "refused"
            finally:
                session.close()

    with pg_app.app_context():
        moving = db.new_session()
        admin = moving.scalar(select(User).where(User.email == "admin@muster.example"))
        profiles.update_profile(moving, admin, moving.get(UmsProfile, profile_id), last_name="P0",
                                first_name="Parallel", site_id=new_site_id)
        other = threading.Thread(target=assign_old_site_number)
        other.start()
        other.join(1.0)
        assert other.is_alive(), "the assignment must wait for the site change"
        moving.commit()
        moving.close()
        other.join(30)

    assert outcome["result"] == "refused"
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceAssignment)
                                 .where(ServiceAssignment.number_id == number_id)) == 0
        assert db.session.get(UmsProfile, profile_id).site_id == new_site_id
