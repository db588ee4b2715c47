"""Development secrets kept in an untracked local file.

A fresh checkout has no secrets; the first run generates them once into
`.resync-local.json` (git-ignored, mode 0600) so they survive restarts. Production never
reads this file: there every secret comes from the environment.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.core.management.utils import get_random_secret_key

GENERATORS: dict[str, Callable[[], str]] = {
    "SECRET_KEY": get_random_secret_key,
    # A Fernet key: 32 url-safe base64-encoded bytes.
    "ENCRYPTION_KEY": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "DEMO_ADMIN_PASSWORD": lambda: secrets.token_urlsafe(12),
    "HWA_SIMULATOR_PASSWORD": lambda: secrets.token_urlsafe(12),
}


def load(path: Path) -> dict[str, str]:
    """Read the local secrets, generating any that are missing.

    An exclusive lock on the file makes concurrent first starts (server, worker,
    simulator) agree on one set of secrets.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        text = handle.read()
        data: dict[str, str] = json.loads(text) if text.strip() else {}
        missing = {key: make() for key, make in GENERATORS.items() if key not in data}
        if missing:
            data.update(missing)
            handle.seek(0)
            handle.truncate()
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
    return data
