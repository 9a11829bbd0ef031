"""Bestellsystem: „Aktive Verträge“, „Vertrag anzeigen“ with „Nachbestellung“, the catalogue,
the Warenkorb, „Beauftragen“, „Meine Bestellungen“, and the back office that provisions orders.
Routes parse, load + authorise through the services, call one service, choose a view."""

from __future__ import annotations

from flask import current_app, g, request, url_for
from flask import session as http_session
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ... import htmx, web
from ...htmx import render
from ...models import ProductKind
from ...services import authz, catalogue, ordering, provisioning
from ...services import cart as cart_service
from ...services import contracts as contract_service
from ...services.errors import NotFound, ValidationFailed
from . import bp
from .forms import OptionForm, RefuseForm, TrunkForm

CUSTOMER_KEY = "order_customer_id"


@bp.context_processor
def _shop_context():
    return {"carrier_title": carrier_title, "money": catalogue.money, "cart_count": _cart_count,
            "status_labels": ordering.STATUS_LABELS, "format_date": format_date,
            "is_partial": htmx.wants_partial()}


def carrier_title(text) -> str:
    """„<Carrier> – Warenkorb“ with CARRIER_NAME set, else just the page's name."""
    name = current_app.config.get("CARRIER_NAME")
    return f"{name} – {text}" if name else str(text)


def _customer():
    """The customer the signed-in user orders for (chosen with ?customer=, kept in the session)."""
    if "order_customer" not in g:
        wanted = request.args.get("customer", type=int) or http_session.get(CUSTOMER_KEY)
        g.order_customer = cart_service.customer_for(web.session(), current_user, wanted)
        if http_session.get(CUSTOMER_KEY) != g.order_customer.id:
            http_session[CUSTOMER_KEY] = g.order_customer.id
    return g.order_customer


def _cart_count() -> int:
    try:
        return cart_service.count(web.session(), current_user, _customer())
    except authz.AccessDenied:
        return 0


def _shop(**context) -> dict:
    customer = _customer()
    return {"customer": customer, "customers": cart_service.ordering_customers(web.session(), current_user),
            **context}


# --- Aktive Verträge, Vertrag anzeigen, Nachbestellung ----------------------------------------

@bp.get("/contracts")
@login_required
def contracts():
    authz.can_view_contracts(web.session(), current_user).require()
    rows = contract_service.active_contracts(web.session(), current_user)
    return render("orders/contracts.html", "partials/orders/_contracts.html", rows=rows)


@bp.get("/contracts/<int:contract_id>")
@login_required
def contract_show(contract_id: int):
    details = contract_service.contract_details(web.session(), current_user, contract_id)
    return render("orders/contract.html", "partials/orders/_contract.html", d=details,
                  open_menu=request.args.get("nachbestellung") == "1")


@bp.post("/contracts/<int:contract_id>/reorder")
@login_required
def reorder(contract_id: int):
    contract = contract_service.contract_details(web.session(), current_user, contract_id).contract
    cart_service.add_existing_trunk(web.session(), current_user, contract)
    http_session[CUSTOMER_KEY] = contract.customer_id
    return htmx.redirect(url_for("orders.cart"))


# --- catalogue --------------------------------------------------------------------------------

@bp.get("/shop", endpoint="catalogue")
@login_required
def catalogue_page():
    """The product selection page („Produktauswahl“)."""
    return render("orders/catalogue.html", "partials/orders/_catalogue.html", **_shop())


@bp.get("/shop/ipfonie-sip")
@login_required
def sip():
    customer = _customer()
    bundles = catalogue.products(web.session(), customer.product_line, (ProductKind.SIP_BUNDLE,))
    channels = catalogue.product_of_kind(web.session(), customer.product_line, ProductKind.VOICE_CHANNELS)
    return render("orders/sip.html", "partials/orders/_sip.html", **_shop(bundles=bundles, channels=channels))


@bp.get("/shop/ipfonie-sip/tarif-optionen")
@login_required
def tariff_options():
    options = catalogue.products(web.session(), _customer().product_line, (ProductKind.UMS_PACKAGE,))
    return render("orders/tariff_options.html", "partials/orders/_tariff_options.html", **_shop(options=options))


def _trunk_form(products) -> TrunkForm:
    form = TrunkForm()
    form.product.choices = [SelectChoice(p.code, p.name) for p in products]
    if not form.product.data and products:
        form.product.data = products[0].code
    return form


@bp.route("/shop/ipfonie-sip/trunks", methods=["GET", "POST"])
@login_required
def trunk_steps():
    """„IPfonie SIP-Trunks“: trunk, minimum term and Kombi-Option, step by step."""
    customer = _customer()
    trunks = catalogue.products(web.session(), customer.product_line, (ProductKind.SIP_TRUNK,))
    form = _trunk_form(trunks)
    status = 200
    if request.method == "POST":
        try:
            product = catalogue.product(web.session(), request.form.get("product", ""), customer.product_line)
            if product.kind != ProductKind.SIP_TRUNK:
                raise ValidationFailed(_("Please choose a SIP trunk."), field="product")
            cart_service.add_trunk(web.session(), current_user, customer, product, term=form.term.data,
                                   kombi=form.kombi.data == "yes")
            return htmx.redirect(url_for("orders.cart"))
        except NotFound:
            form.product.errors = [_("Please choose a SIP trunk.")]
            status = 422
        except ValidationFailed as exc:
            getattr(form, exc.field, form.product).errors = [str(exc.message)]
            status = 422
    return render("orders/trunk_steps.html", "partials/orders/_trunk_steps.html", status=status,
                  **_shop(form=form, trunks=trunks))


@bp.route("/shop/products/<code>", methods=["GET", "POST"])
@login_required
def product(code: str):
    """A product's order page: a bundle (term, Kombi-Option) or an option (quantity, trunk)."""
    customer = _customer()
    item = catalogue.product(web.session(), code, customer.product_line)
    form = _trunk_form([item]) if item.is_trunk else OptionForm()
    groups = cart_service.trunk_choices(web.session(), current_user, customer,
                                        new_only=item.kind == ProductKind.VOICE_CHANNELS)
    if not item.is_trunk:
        form.trunk_id.choices = [SelectChoice(str(g.trunk.item.id), _("%(trunk)s – minimum term %(n)d months",
                                                                          trunk=g.trunk.name, n=g.trunk.item.min_term_months))
                                 for g in groups]
        if not form.trunk_id.data and groups:
            form.trunk_id.data = str(groups[-1].trunk.item.id)
    status = 200
    if request.method == "POST":
        try:
            if item.is_trunk:
                cart_service.add_trunk(web.session(), current_user, customer, item, term=form.term.data,
                                       kombi=form.kombi.data == "yes")
            else:
                cart_service.add_option(web.session(), current_user, customer, item,
                                        trunk_id=request.form.get("trunk_id", type=int),
                                        quantity=request.form.get("quantity"))
            return htmx.redirect(url_for("orders.cart"))
        except ValidationFailed as exc:
            getattr(form, exc.field or "quantity", None).errors = [str(exc.message)]
            status = 422
    return render("orders/product.html", "partials/orders/_product.html", status=status,
                  **_shop(product=item, form=form, groups=groups))


# --- Warenkorb --------------------------------------------------------------------------------

def _cart_response(status: int = 200, *, errors: dict | None = None, toast: str | None = None,
                   undo=None):
    view = cart_service.view(web.session(), current_user, _customer())
    decision = authz.can_order(web.session(), current_user, view.customer)
    return render("orders/cart.html", "partials/orders/_cart.html", status=status,
                  trigger={"toast": toast} if toast else None,
                  **_shop(view=view, can_place=decision, errors=errors or {}, undo=undo))


@bp.get("/cart")
@login_required
def cart():
    return _cart_response()


def _change_line(change, item_id: int, value, toast: str):
    """A change in place of one cart line; refused next to that line (422), nothing stored."""
    try:
        change(web.session(), current_user, _customer(), item_id, value)
    except ValidationFailed as exc:
        return _cart_response(422, errors={item_id: str(exc.message)})
    return _cart_response(toast=toast)


@bp.post("/cart/items/<int:item_id>/quantity")
@login_required
def cart_quantity(item_id: int):
    return _change_line(cart_service.set_quantity, item_id, request.form.get("quantity"), _("Quantity changed."))


@bp.post("/cart/items/<int:item_id>/term")
@login_required
def cart_term(item_id: int):
    return _change_line(cart_service.set_term, item_id, request.form.get("term"), _("Minimum term changed."))


@bp.post("/cart/items/<int:item_id>/remove")
@login_required
def cart_remove(item_id: int):
    item = cart_service.remove(web.session(), current_user, _customer(), item_id)
    return _cart_response(undo=item)


@bp.post("/cart/items/<int:item_id>/restore")
@login_required
def cart_restore(item_id: int):
    cart_service.restore(web.session(), current_user, _customer(), item_id)
    return _cart_response(toast=_("The line is back in the cart."))


@bp.post("/cart/place")
@login_required
def place():
    order = ordering.place(web.session(), current_user, _customer(), request.form.get("token"))
    return htmx.redirect(url_for("orders.order_show", order_id=order.id))


# --- Meine Bestellungen -----------------------------------------------------------------------

@bp.get("/orders")
@login_required
def my_orders():
    result = ordering.my_orders(web.session(), current_user, request.args.get("page", 1, type=int))
    return render("orders/my_orders.html", "partials/orders/_my_orders.html", **_shop(result=result))


@bp.get("/orders/<int:order_id>")
@login_required
def order_show(order_id: int):
    order = ordering.order_for(web.session(), current_user, order_id)
    return render("orders/order.html", "partials/orders/_order.html", order=order,
                  groups=ordering.groups(order), totals=ordering.order_totals(order))


# --- back office ------------------------------------------------------------------------------

@bp.get("/backoffice")
@login_required
def backoffice():
    return render("orders/backoffice.html", "partials/orders/_backoffice.html",
                  orders=provisioning.open_orders(web.session(), current_user))


def _provision_inputs(order) -> dict[int, provisioning.TrunkInput]:
    inputs = {}
    for trunk in provisioning.new_trunks(order):
        p = f"t{trunk.id}"
        given = provisioning.TrunkInput(channels=request.form.get(f"{p}-channels", ""))
        given.sites = [provisioning.SiteInput(*(request.form.get(f"{p}-s{n}-{k}", "")[:40 if k != "name" else 120]
                                                for k in ("name", "base", "first", "last")))
                       for n in range(provisioning.SITES_PER_TRUNK)]
        inputs[trunk.id] = given
    return inputs


@bp.route("/backoffice/orders/<int:order_id>", methods=["GET", "POST"])
@login_required
def provision(order_id: int):
    order = provisioning.order_to_handle(web.session(), current_user, order_id)
    errors: dict[str, str] = {}
    inputs = _ordered_inputs(order)
    status = 200
    if request.method == "POST":
        inputs = _provision_inputs(order)
        try:
            contracts = provisioning.provision(web.session(), current_user, order_id, inputs)
        except provisioning.ProvisioningInvalid as exc:
            errors, status = exc.errors, 422
        else:
            return render("orders/provisioned.html", "partials/orders/_provisioned.html", order=order,
                          contracts=contracts, trigger={"toast": _("Order %(number)s is provisioned.",
                                                                      number=order.number)})
    return _provision_page(order, status, inputs, errors, RefuseForm(formdata=None))


def _provision_page(order, status: int, inputs, errors: dict, refuse_form: RefuseForm):
    return render("orders/provision.html", "partials/orders/_provision.html", status=status, order=order,
                  inputs=inputs, errors=errors, refuse_form=refuse_form, groups=ordering.groups(order),
                  totals=ordering.order_totals(order))


def _ordered_inputs(order) -> dict[int, provisioning.TrunkInput]:
    return {t.id: provisioning.TrunkInput(channels=str(provisioning.ordered_channels(order, t) or ""))
            for t in provisioning.new_trunks(order)}


@bp.post("/backoffice/orders/<int:order_id>/refuse")
@login_required
def refuse(order_id: int):
    order = provisioning.order_to_handle(web.session(), current_user, order_id)
    form = RefuseForm()
    try:
        provisioning.refuse(web.session(), current_user, order_id, form.reason.data or "")
    except ValidationFailed as exc:
        form.reason.errors = [str(exc.message)]
        return _provision_page(order, 422, _ordered_inputs(order), {}, form)
    return htmx.redirect(url_for("orders.backoffice"))
