"""platform_layer.bodies: a body larger than the platform reads is refused unread, with
a 413 that says why (an avatar's, through HTTP: tests/news/api/test_members.py)."""

import pytest

from tests.support import acting

pytestmark = pytest.mark.django_db


class Unreadable:
    """A request body that fails the test when anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=xyz", "application/json"], ids=["a form", "JSON"]
)
def test_a_body_whose_length_is_past_the_limit_is_refused_unread(api, ada, settings, content_type):
    response = api.generic(
        "POST",
        f"/api/v1/users/{ada.pk}/avatar" if content_type.startswith("multipart") else "/api/v1/stories",
        b"-",  # (the test client sets no Content-Type on an empty body)
        content_type=content_type,
        **acting(ada.pk),
        CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert "the most this API reads" in response.json()["detail"]


def test_a_malformed_body_is_a_400_in_json(api, ada):
    response = api.generic(
        "POST",
        f"/api/v1/users/{ada.pk}/avatar",
        b"no boundary in here",
        content_type="multipart/form-data; boundary=",
        **acting(ada.pk),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The request could not be understood."}
