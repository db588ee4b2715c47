"""Live connection pools: PostgreSQL (database.py), Redis (redis.py), HWA HTTP (hwa_http.py).

ConnectionPoolConfig rows hold the settings; `apps.core.services.pools.pool_config_apply`
(the config-version callback of CONFIG_AREA) hands each pool its values when they change.
Each pool module tells what it runs with through `applied_values()` and `stats()`.
"""

CONFIG_AREA = "pools"
