"""The account-validation subscriber: AccountCreated (SQS) → name-compliance API → Okta profile
``complianceStatus`` + Marketo lead (pass) or a manual-review record (fail)."""
