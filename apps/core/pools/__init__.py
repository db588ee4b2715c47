"""Live connection pools: PostgreSQL (database.py), Redis (redis.py), HWA HTTP (hwa_http.py).

ConnectionPoolConfig rows hold the settings; `runtime.pools_apply` (a config-version
callback for the area "pools") hands each pool its values when they change.
"""
