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
