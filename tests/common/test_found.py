"""``found``: the row a request named, or a 404 naming the field."""
from __future__ import annotations

import pytest

from services.common.web import ApiError, found


def test_found_returns_the_row_and_refuses_none_with_a_404_naming_the_field() -> None:
    row = {"id": "s1"}
    assert found(row, "session_id", "no session 's1'") is row
    with pytest.raises(ApiError) as refused:
        found(None, "session_id", "no session 's2'")
    assert (refused.value.field, refused.value.reason, refused.value.status) == \
        ("session_id", "no session 's2'", 404)
