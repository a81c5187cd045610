"""Code shared by the Lambda functions in infra/functions (deployed as one code bundle)."""
