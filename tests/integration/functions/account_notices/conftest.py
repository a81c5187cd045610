from tests.integration.pipeline.fixtures import moto_url, okta  # noqa: F401
