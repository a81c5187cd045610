"""Operations commands: ``bff publish-spa`` (S3 + CloudFront) and ``bff okta plan|apply``."""
