"""gunicorn settings, taken from the same MK_* configuration as everything else."""

import sys

from config import SettingsError, load_settings
from web.server_hooks import KEEPALIVE_S, install, on_starting, post_fork, post_worker_init, when_ready  # noqa: F401 - gunicorn's hooks, by name

install()  # gunicorn's own error answers get the security headers; a silent connection is closed

try:
    _settings = load_settings()
except SettingsError as exc:  # one line, as the command lines say it (gunicorn would print a traceback)
    sys.exit(f"error: {exc}")
bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
# MK_PRELOAD: the master loads the app and search's model before it forks the workers, which share
# them copy-on-write; each worker opens its search indexes before its first request (web/server_hooks.py).
preload_app = _settings.preload
# The asgi worker reads every request whole on its event loop before web.asgi hands it to one of
# MK_THREADS threads: with gthread a client that sent headers and then stalled its body held a thread
# for good, and a few such clients blocked the server.
worker_class = "asgi"
wsgi_app = "web.asgi:create_asgi_app()"
asgi_lifespan = "off"
keepalive = KEEPALIVE_S
timeout = int(max(_settings.query_timeout_s, _settings.body_timeout_s)) + 30
limit_request_line = 8190  # gunicorn's maximum; longer queries go by POST
accesslog = None
logger_class = "web.server_hooks.QuietLogger"
forwarded_allow_ips = ""  # gunicorn believes no X-Forwarded-*: MK_TRUSTED_PROXIES decides (web.app, ProxyFix)
control_socket_disable = True  # one fixed socket path per user would clash between servers on one machine

# Requests and SPARQL queries are logged with their duration (never a header); a filter blanks out
# credentials and configured secrets in any line, gunicorn's own included.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"redact": {"()": "web.server_hooks.RedactSecrets"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr",
                            "filters": ["redact"]}},
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "missiekompas": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}
