from tests.core.sync_fixtures import hwa, hwa_connection, sim, synced  # noqa: F401
