"""The plain WSGI app, for any WSGI server (`gunicorn web.wsgi:app`); `make run` serves it through
web.asgi, which reads each request whole before a thread takes it."""

import sys

from config import SettingsError
from web.app import create_app

try:
    app = create_app()
except SettingsError as exc:  # a bad MK_* value: one line, not a traceback
    sys.exit(f"error: {exc}")
