from __future__ import annotations

import pytest

from booksync.config import Settings


def test_settings_read_each_variable_by_its_upper_snake_name() -> None:
    s = Settings.from_env({"TABLE_NAME": "t1", "TOKEN_LEASE_SECONDS": "45", "PROVIDER_TIMEOUT_SECONDS": "2.5"})
    assert (s.table_name, s.token_lease_seconds, s.provider_timeout_seconds) == ("t1", 45, 2.5)
    assert s.oauth_state_ttl_seconds == 600  # default kept


def test_a_malformed_number_fails_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="TOKEN_LEASE_SECONDS='soon'"):
        Settings.from_env({"TOKEN_LEASE_SECONDS": "soon"})
