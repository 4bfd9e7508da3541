"""The sign-up link: channels accept the registry's ``signup_url`` as the base address."""
import pytest

from plugins.channels._common import signup_url


def test_registry_signup_url_is_the_base_address():
    # The registry's channel worker passes {"signup_url": KLERO_REGISTRY_SIGNUP_URL}.
    assert signup_url({"signup_url": "http://127.0.0.1:8000/signup"}, "AB23") == \
        "http://127.0.0.1:8000/signup?code=AB23"


def test_signup_base_url_wins_over_signup_url():
    assert signup_url({"signup_base_url": "https://t.dk/s/{code}", "signup_url": "http://x"},
                      "AB23") == "https://t.dk/s/AB23"


def test_no_address_is_still_an_error():
    with pytest.raises(ValueError, match="assembly.signup_base_url"):
        signup_url({"signup_url": ""}, "AB23")
