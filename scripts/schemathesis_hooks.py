"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis.sh).

`POST /api/v1/capture/email/` takes a raw e-mail (`message/rfc822`): its generated
bodies are sent as the raw bytes they are, like `application/octet-stream`.
"""

import schemathesis

schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
