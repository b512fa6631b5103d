"""web.views.accounts: signing up, logging in and out, with CSRF checks on."""

from django.test import Client

from tests.conftest import PASSWORD, csrf_token, unique


def test_sign_up_log_out_and_log_in_again_with_csrf_enforced():
    client = Client(enforce_csrf_checks=True)
    username = unique()

    page = client.get("/signup")
    form = {"username": username, "name": "Ada Tester", "password": PASSWORD}
    assert client.post("/signup", form).status_code == 403, "a form without its CSRF token is refused"
    response = client.post("/signup", {**form, "csrfmiddlewaretoken": csrf_token(page.content.decode())})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/").content.decode()
    assert f"@{username}" in home and 'data-testid="logout-button"' in home
    assert 'data-testid="flash"' in home, "a welcome message"

    response = client.post("/logout", {"csrfmiddlewaretoken": csrf_token(home)})
    assert response.status_code == 302
    assert 'data-testid="nav-login"' in client.get("/").content.decode()

    page = client.get("/login?next=/u/" + username)
    response = client.post(
        "/login",
        {
            "username": username,
            "password": PASSWORD,
            "next": f"/u/{username}",
            "csrfmiddlewaretoken": csrf_token(page.content.decode()),
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/u/{username}"


def test_the_session_cookie_is_http_only_and_same_site_lax(member):
    response = Client().post("/login", {"username": member["username"], "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_log_out_is_a_post_only(member, login):
    assert login(member).get("/logout").status_code == 405


def test_a_wrong_password_is_a_form_error(member):
    response = Client().post("/login", {"username": member["username"], "password": "not-the-password"})
    assert response.status_code == 200
    assert b"Wrong username or password." in response.content


def test_after_login_next_only_leads_to_this_site(member):
    for unsafe in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = Client().post(
            "/login", {"username": member["username"], "password": PASSWORD, "next": unsafe}
        )
        assert response["Location"] == "/", unsafe


def test_a_taken_username_is_a_form_error(member):
    response = Client().post("/signup", {"username": member["username"], "password": PASSWORD})
    assert response.status_code == 200
    assert b"This username is taken." in response.content
    assert b'data-testid="field-error-username"' in response.content


def test_bad_sign_up_fields_are_form_errors_not_500s():
    response = Client().post("/signup", {"username": "a b\x00", "password": "short", "name": "x\x00"})
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("username", "password", "name"):
        assert f'data-testid="field-error-{field}"' in html


def test_platform_errors_land_on_their_fields():
    # A name on two lines passes the form (a browser cannot send one) but not the platform.
    response = Client().post("/signup", {"username": unique(), "password": PASSWORD, "name": "two\nlines"})
    assert response.status_code == 200
    assert b'data-testid="field-error-name"' in response.content
    assert b"single line" in response.content


def test_pages_for_members_send_visitors_to_log_in():
    for path in ("/submit", "/settings/profile"):
        response = Client().get(path)
        assert (
            response.status_code == 302
            and response["Location"] == f"/login?next=%2F{path[1:].replace('/', '%2F')}"
        )
