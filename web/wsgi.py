"""The plain WSGI app, for any WSGI server (`gunicorn web.wsgi:app`); `make run` serves it through
web.asgi, which reads each request whole before a thread takes it."""

from web.app import create_app

app = create_app()
