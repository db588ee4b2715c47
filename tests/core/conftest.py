from tests.core.sync_fixtures import client, hwa_connection, sim  # noqa: F401
