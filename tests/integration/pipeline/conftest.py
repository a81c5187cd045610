from tests.integration.pipeline.fixtures import moto_url, okta, pipeline  # noqa: F401
