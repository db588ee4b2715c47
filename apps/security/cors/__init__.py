"""CORS origins managed in the admin: rows, validated, audited, applied live in every process."""
