"""``bff doctor``: read-only checks of a deployment against Okta, AEM, AWS and its session store
(:mod:`bff.doctor.checks`; the command: :mod:`bff.doctor.cli`)."""
