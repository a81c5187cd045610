"""The local AWS of the account-created pipeline: moto in server mode plus the real topology."""
