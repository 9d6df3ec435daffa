"""The pure authority check, tested without a database."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from delegation.authority import NO_AUTHORITY, Limits, Usage, exceeded_limits, nearest_covering, remaining

D = Decimal
AGENT_REFUND = Limits(D("100.00"), D("300.00"), D("2000.00"), D("200.00"))
UNLIMITED = Limits(None, None, None, None)


@pytest.mark.parametrize(
    ("usage", "amount", "expected"),
    [
        (Usage(), D("50.00"), []),
        (Usage(), D("100.00"), []),
        (Usage(), D("100.01"), ["per_decision"]),
        (Usage(today=D("250.00")), D("50.00"), []),
        (Usage(today=D("250.00")), D("50.01"), ["per_day"]),
        (Usage(this_month=D("1950.00")), D("60.00"), ["per_month"]),
        (Usage(customer_this_month=D("150.00")), D("60.00"), ["per_customer_month"]),
        (Usage(D("300.00"), D("2000.00"), D("200.00")), D("150.00"), list(AGENT_REFUND.as_dict())[:4]),
    ],
)
def test_exceeded_limits_names_every_cap_broken(usage, amount, expected):
    assert exceeded_limits(AGENT_REFUND, usage, amount) == expected


def test_no_limit_never_exceeds_and_no_authority_always_does():
    assert exceeded_limits(UNLIMITED, Usage(D("1e9"), D("1e9"), D("1e9")), D("999999.99")) == []
    assert exceeded_limits(NO_AUTHORITY, Usage(), D("0.01")) == [
        "per_decision",
        "per_day",
        "per_month",
        "per_customer_month",
    ]


def test_remaining_never_goes_below_zero():
    assert remaining(D("300.00"), D("350.00")) == D("0.00")
    assert remaining(D("300.00"), D("120.50")) == D("179.50")
    assert remaining(None, D("5.00")) is None


def test_nearest_covering_takes_the_first_that_covers():
    lead = Limits(D("500.00"), D("1500.00"), None, None)
    manager = Limits(D("2000.00"), None, None, None)
    chain = [(2, lead, Usage()), (3, manager, Usage())]
    assert nearest_covering(chain, D("400.00")) == 2
    assert nearest_covering(chain, D("800.00")) == 3
    assert nearest_covering([(2, lead, Usage(today=D("1400.00"))), *chain[1:]], D("400.00")) == 3
    assert nearest_covering(chain, D("2500.00")) is None


cents = st.decimals(min_value=D("0.01"), max_value=D("5000.00"), places=2)


@given(used=cents, amount=cents)
def test_within_authority_means_every_cap_holds_afterwards(used, amount):
    usage = Usage(today=used, this_month=used, customer_this_month=used)
    if not exceeded_limits(AGENT_REFUND, usage, amount):
        assert amount <= AGENT_REFUND.per_decision
        assert used + amount <= AGENT_REFUND.per_day
        assert used + amount <= AGENT_REFUND.per_customer_month
