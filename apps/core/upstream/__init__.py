"""What Resync's clients of an upstream HTTP service (HWA, the assistant's model) share.

`client.ResilientClient` is the pooled, timed, retried, breaker-guarded httpx client both
API clients build on; `simulator.Simulator` is the threaded HTTP server with run-time fault
switches both bundled simulators build on. Each subclass keeps only its API: its wire
format, which failures are safe to retry, and the typed errors its callers catch.
"""
