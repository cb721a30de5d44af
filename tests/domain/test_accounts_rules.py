"""Pure account rules: login normalisation and password policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtserver.domain.accounts import login_is_valid, normalize_login, password_problem
from rtserver.domain.login_throttle import is_blocked


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Bintang.07", "bintang.07"),
        ("  SARI@example.ORG ", "sari@example.org"),
        ("\uff42\uff49\uff4e\uff54\uff41\uff4e\uff47", "bintang"),
    ],
)
def test_normalize_login(raw: str, normalized: str) -> None:
    assert normalize_login(raw) == normalized


@pytest.mark.parametrize("login", ["ab", "a b", ".start", "x" * 65, "semi;colon", ""])
def test_invalid_logins(login: str) -> None:
    assert not login_is_valid(login)


@pytest.mark.parametrize("login", ["abc", "bintang.07", "sari@example.org", "a+b-c_d"])
def test_valid_logins(login: str) -> None:
    assert login_is_valid(login)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least"),
        ("x" * 257, "at most"),
        ("Bintang.07", "login"),
        ("abababababab", "repetitive"),
        ("correct horse 42", None),
    ],
)
def test_password_policy(password: str, problem: str | None) -> None:
    found = password_problem(password, 10, "bintang.07")
    assert (found is None) if problem is None else (problem in (found or ""))


@given(st.text(min_size=1, max_size=80))
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize_login(raw)
    assert normalize_login(once) == once


@given(st.integers(0, 100), st.integers(1, 100))
def test_blocked_exactly_at_limit(count: int, limit: int) -> None:
    assert is_blocked(count, limit) == (count >= limit)
