"""Signed survey links: an altered token is refused (400), an expired one too (410), purposes do not mix."""

from __future__ import annotations

import datetime as dt

import pytest

from retain.surveys.links import LinkError, LinkProblem, LinkPurpose, sign, verify

SECRET = "a-test-secret-of-enough-length"
EXPIRES = dt.datetime(2024, 7, 15)
BEFORE, AFTER = dt.datetime(2024, 7, 14, 23, 59), dt.datetime(2024, 7, 15, 0, 0)


def test_a_fresh_link_names_its_invitation():
    claims = verify(SECRET, sign(SECRET, 42, EXPIRES), now=BEFORE)
    assert (claims.invitation_id, claims.expires_at) == (42, EXPIRES)


@pytest.mark.parametrize("change", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
    lambda t: "WzQzLDE3MjEwMDE2MDBd" + t[t.index("."):],  # another invitation id, same signature
    lambda t: t.split(".")[0],  # cut short
    lambda t: "garbage",
])
def test_a_tampered_link_is_refused_with_400(change):
    with pytest.raises(LinkError) as err:
        verify(SECRET, change(sign(SECRET, 42, EXPIRES)), now=BEFORE)
    assert err.value.problem is LinkProblem.TAMPERED and err.value.problem.status == 400


def test_another_secret_refuses_the_link():
    with pytest.raises(LinkError) as err:
        verify("another-secret-entirely-here", sign(SECRET, 42, EXPIRES), now=BEFORE)
    assert err.value.problem is LinkProblem.TAMPERED


def test_an_expired_link_is_refused_with_410():
    with pytest.raises(LinkError) as err:
        verify(SECRET, sign(SECRET, 42, EXPIRES), now=AFTER)
    assert err.value.problem is LinkProblem.EXPIRED and err.value.problem.status == 410


def test_an_unsubscribe_token_is_not_an_answer_token_and_never_expires():
    token = sign(SECRET, 42, EXPIRES, LinkPurpose.UNSUBSCRIBE)
    with pytest.raises(LinkError):
        verify(SECRET, token, now=BEFORE)
    later = dt.datetime(2030, 1, 1)
    assert verify(SECRET, token, now=later, purpose=LinkPurpose.UNSUBSCRIBE).invitation_id == 42
