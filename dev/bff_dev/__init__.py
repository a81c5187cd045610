"""The BFF's development stack (the ``bff-dev`` distribution, folder ``dev/``): local twins of
every external system, the local stack behind ``bff dev`` and ``/__dev/mail``.

Production never installs it: ``bff`` never imports ``bff_dev`` (scripts/check_imports.py), and
the dev stack plugs into the product only through ``create_app(..., extra_routes=...)`` and the
``bff.commands`` entry point of ``bff dev``.
"""
