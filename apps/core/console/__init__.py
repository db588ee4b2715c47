"""The operations console: server-rendered pages for the people who watch the plan.

The admin stays the place for configuration. Each page is a thin view over the plan
selectors (apps/core/selectors), declares its `required_permission` like the API views
(apps/security/permissions.py), and keeps to the strict CSP: no inline script or style,
assets from static files (console.css, console.js).
"""
