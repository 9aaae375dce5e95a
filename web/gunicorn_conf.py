"""gunicorn settings, taken from the same MK_* configuration as everything else."""

from kg.settings import load_settings

_settings = load_settings()
bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
threads = _settings.threads
worker_class = "gthread"
timeout = int(_settings.query_timeout_s) + 30
limit_request_line = 16384
accesslog = None
