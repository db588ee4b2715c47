"""Alerts that reach someone: rules, measurements, evaluation, notifications.

- models.py: `AlertRule` (what is measured, compared with what, how bad, who hears), the
  `Alert` it opens and resolves (one open alert per rule), `WebhookChannel` and the
  `Notification` rows that carry each open, resolve or test message with its attempts.
- measures.py: one small function per metric kind, each returning a `Measurement`.
- services.py: `alerts_evaluate()`, one evaluation pass (run by `manage.py run_monitor` and
  by `sync_plan --loop`): claims the rules that are due, measures them, opens and resolves
  alerts, queues and delivers notifications. Any number of passes may run at once.
- notify.py: delivering one notification (email, signed webhook) and the signature.
"""
