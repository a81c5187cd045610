"""The welcome-email subscriber: AccountCreated (SQS) → a localized email through SES."""
