"""The HCL Workload Automation (HWA) integration: a resilient REST client and a simulator.

`client.HwaClient` talks to HWA (or the bundled simulator) and returns the typed records
of `types`; failures surface as the typed errors of `errors`. Nothing here touches the
database: the plan sync service consumes these records.
"""
