"""Signing a test client in to the pages, as a browser would: the form's CSRF token, then the API token."""
import re


def csrf_of(page: str) -> str:
    """The CSRF token a page's form carries."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def signed_in(app, token: str):
    """A test client of app signed in with token (its session cookie kept by the client)."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    answer = client.post("/login", data={"token": token, "csrf_token": csrf_of(form)})
    assert answer.status_code == 302, answer.status_code
    return client
