import pytest

from tests.conftest import HTMX, login

DEMO_HOMES = [
    ("admin@muster.example", "/ums"),
    ("admin2@muster.example", "/ums"),
    ("anna.schmidt@muster.example", "/me"),
    ("cf-admin@beispiel.example", "/ums"),
    ("reseller@partner.example", "/ums"),
    ("mandant@nord.example", "/ums"),
    ("betrieb@carrier.example", "/backoffice"),
]


@pytest.mark.parametrize(("email", "home"), DEMO_HOMES)
def test_every_demo_login_lands_on_its_dashboard(client, email, home):
    response = login(client, email)
    assert response is client
    landing = client.get("/")
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("email", ["admin@muster.example", "nobody@muster.example"])
def test_wrong_password_and_unknown_login_get_the_same_neutral_message(client, email):
    response = client.post("/login", data={"email": email, "password": "wrong-password"})
    assert response.status_code == 422
    assert "E-Mail-Adresse oder Passwort ist nicht korrekt." in response.text
    assert f'value="{email}"' in response.text


def test_login_is_case_insensitive_on_the_email(client):
    response = client.post("/login", data={"email": "Admin@Muster.Example", "password": "demo-admin-2026"})
    assert response.status_code == 302


def test_logout_signs_out(client):
    login(client, "admin@muster.example")
    assert client.post("/logout").status_code == 302
    assert client.get("/ums").status_code == 302


def test_signed_out_htmx_request_gets_hx_redirect_to_login(client):
    response = client.get("/ums", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_session_cookie_is_httponly_and_lax(client):
    response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_does_not_redirect_off_site(client):
    response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026",
                                           "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/")
    assert "evil.example" not in response.headers["Location"]


def test_language_switch_persists_for_the_user(client):
    login(client, "admin@muster.example")
    assert "Abmelden" in client.get("/ums").text
    client.post("/language", data={"lang": "en", "next": "/ums"})
    assert "Sign out" in client.get("/ums").text
    client.post("/logout")
    login(client, "admin@muster.example")
    assert "Sign out" in client.get("/ums").text


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_state_changing_request_without_token_is_refused_with_400(self, client):
        response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"})
        assert response.status_code == 400

    def test_htmx_request_with_token_header_passes(self, client):
        page = client.get("/login").text
        import re

        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": "admin@muster.example", "password": "demo-admin-2026"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 302
