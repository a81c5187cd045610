"""The account-notices subscriber: one security email per account notice (AccountLocked,
PasswordChanged, FactorAdded) from the ``account-notices`` queue."""
