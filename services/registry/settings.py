"""The registry's settings (``kleroterion settings registry`` prints them)."""
from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import ServiceSettings, setting


@dataclass(frozen=True)
class Settings(ServiceSettings):
    service: str = "registry"
    encryption_key: str = setting(
        "", "Key that seals personal data at rest (32 bytes, URL-safe base64). Required on "
            "PostgreSQL; on the embedded SQLite default a key file is made in KLERO_DATA_DIR.",
        secret=True)
    signup_url: str = setting("http://127.0.0.1:8000/signup",
                              "Public address of the sign-up page printed in invitations.")
    import_batch_size: int = setting(5000, "Rows per batched insert when importing an extract.",
                                     minimum=100)
    import_max_errors: int = setting(100, "Bad rows reported per refused extract.", minimum=1)
    send_attempts: int = setting(3, "Tries per channel on a retryable delivery failure.",
                                 minimum=1)
    send_backoff_ms: int = setting(200, "First wait between delivery tries; doubles each try.",
                                   minimum=0)
    extract_max_bytes: int = setting(
        1024 * 1024 * 1024, "Largest population extract upload, in bytes (about 110 bytes a "
        "row: 1 GiB holds a national extract of some 9 million rows); other requests keep "
        "KLERO_MAX_REQUEST_BYTES.", minimum=1024)
