import pytest

from news.models import User


@pytest.fixture
def ada(db) -> User:
    return User.objects.create(username="ada", name="Ada")
