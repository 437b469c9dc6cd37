from tests.core.plugins.conftest import make_app, site, startup_settings  # noqa: F401  (fixtures)
