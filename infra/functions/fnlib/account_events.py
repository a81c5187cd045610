"""The account events as the subscribers receive them (SNS raw delivery into SQS):
``AccountCreated`` (every subscriber) and ``ProfileUpdated`` (the account-validation subscriber,
which keeps the Marketo lead in step with Okta's profile).

The BFF (sign-up and the Okta event hook) publishes it to the ``account-events`` topic with the
message attributes ``eventType``, ``orgId`` and ``source``; each subscription filters on
``{"eventType": ["AccountCreated"]}`` and delivers the raw message, so the SQS record's ``body``
is exactly this JSON document.

Unknown fields are ignored (a newer publisher must not poison older consumers); a body that is
not JSON or misses a required field fails validation and the record is retried, then parked in
the subscriber's DLQ.

The account notices (``AccountLocked``, ``PasswordChanged``, ``FactorAdded``: bff.signup.notices)
travel on the same topic with their ``eventType`` as the message attribute; only the
``account-notices`` subscription's filter policy lets them through, so the other subscribers
never see one (and would refuse it: ``eventType`` is a Literal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class AccountCreated(BaseModel):
    """One newly registered user (wire names are camelCase, as published)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    eventId: Text
    eventType: Literal["AccountCreated"]
    occurredAt: datetime
    userId: Text
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")]
    firstName: Name = ""
    lastName: Name = ""
    orgId: Text | None = None
    locale: Annotated[str, StringConstraints(strip_whitespace=True, max_length=35,
                                             pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] = "en"
    source: Annotated[str, Field(max_length=64)] = "unknown"

    @property
    def email(self) -> str:
        """Where mail goes: Okta logins of self-registered users are their email address."""
        return self.login


class AccountCreatedRecord(SqsRecordModel):
    """An SQS record whose body is an ``AccountCreated`` document (Powertools parser model)."""

    body: Json[AccountCreated]


#: An Okta profile attribute's name (``company``, ``mobilePhone``): what ``ProfileUpdated`` lists.
AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]


class ProfileUpdated(BaseModel):
    """A user changed profile attributes (progressive profiling at sign-in, or the profile
    screen). It names the attributes, never their values: the subscriber reads them from Okta,
    the source of truth, so events that arrive late or out of order still leave the lead right."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    eventId: Text
    eventType: Literal["ProfileUpdated"]
    occurredAt: datetime
    userId: Text
    attributes: Annotated[tuple[AttributeName, ...], Field(min_length=1, max_length=32)]
    source: Annotated[str, Field(max_length=64)] = "unknown"


AccountEvent = Annotated[AccountCreated | ProfileUpdated, Field(discriminator="eventType")]


class AccountEventRecord(SqsRecordModel):
    """An SQS record whose body is either account event (dispatched on ``eventType``)."""

    body: Json[AccountEvent]


#: The account notices, by ``eventType`` (bff/signup/notices.py writes them, version 1; the same
#: as fnlib.names.ACCOUNT_NOTICE_TYPES, the filter policy of their queue).
NoticeType = Literal["AccountLocked", "PasswordChanged", "FactorAdded"]


class AccountNotice(BaseModel):
    """A security notice about an existing account, from one Okta LogEvent (``oktaEventId``).
    Only version 1 is understood: a newer document fails validation and ends in the DLQ rather
    than being misread."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    eventId: Text
    eventType: NoticeType
    eventVersion: Literal[1] = 1
    occurredAt: datetime
    oktaEventId: Text
    userId: Text
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")]
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    firstName: Name = ""
    lastName: Name = ""
    locale: Annotated[str, StringConstraints(strip_whitespace=True, max_length=35,
                                             pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] = "en"
    source: Annotated[str, Field(max_length=64)] = "unknown"

    @property
    def recipient(self) -> str:
        """Where mail goes: the profile's email, else the login (an email address here)."""
        return self.email or self.login


class AccountNoticeRecord(SqsRecordModel):
    """An SQS record whose body is an ``AccountNotice`` document (Powertools parser model)."""

    body: Json[AccountNotice]
