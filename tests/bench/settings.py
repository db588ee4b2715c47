"""Production settings plus the benchmark-only reference views (tests/bench/urls.py).

The served benchmarks compare Resync's endpoints with what the same server and middleware
do for a trivial view, in the same run; those views must never be in the real URLconf.
"""

from resync_site.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
