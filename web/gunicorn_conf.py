"""gunicorn settings, taken from the same MK_* configuration as everything else."""

from kg.settings import load_settings
from web.server_hooks import install

install()  # gunicorn's own error answers get the security headers

_settings = load_settings()
bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
threads = _settings.threads
worker_class = "gthread"
timeout = int(_settings.query_timeout_s) + 30
limit_request_line = 8190  # gunicorn's maximum; longer queries go by POST
accesslog = None
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
