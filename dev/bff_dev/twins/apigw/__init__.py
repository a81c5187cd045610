"""Local twin of API Gateway (HTTP API, JWT authorizer, Lambda proxy integrations) and of the
Lambda Invoke API, running the functions of ``infra/functions`` in-process."""
