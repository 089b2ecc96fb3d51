"""Every service the tests start, in-process or as a subprocess, trusts the tokens ``tests.support.auth`` signs.

Set at import, before any fixture builds a settings object or a process environment.
"""

import os

from tests.support.auth import TEST_SECRET

os.environ["AUTH_JWT_SECRET"] = TEST_SECRET
for unused in ("AUTH_JWKS_URL", "AUTH_JWKS_FILE", "AUTH_ISSUER", "AUTH_AUDIENCE"):
    os.environ.pop(unused, None)
