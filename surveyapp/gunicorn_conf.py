"""gunicorn settings for surveyapp in production (``make serve-prod``, docs/DEPLOY.md):

    gunicorn -c python:surveyapp.gunicorn_conf 'surveyapp:create_app()'

Command-line options and ``GUNICORN_CMD_ARGS`` override these.
"""
import gc
import os

# Two workers per core plus one: sync workers wait on the database, the rest keep the cores busy.
workers = int(os.environ.get("WORKERS") or 2 * (os.cpu_count() or 1) + 1)
bind = os.environ.get("BIND", "127.0.0.1:8000")
# The app is imported once in the master and shared by the workers (copy on write), so that a
# worker replaced after a crash or --max-requests starts in milliseconds.
preload_app = True
timeout = 30
graceful_timeout = 20


def pre_fork(server, worker):
    """Freeze what the master imported before each fork: the app, SciPy and friends are some
    150,000 objects that never die, and without this every full garbage collection in every
    worker walks them all (about 70 ms) and, by touching them, unshares their memory pages."""
    gc.freeze()


def when_ready(server):
    """Before the workers fork: compile the templates of the preloaded app once, in the master, so
    that every worker inherits them and the first dashboard after a restart is not the slowest."""
    from surveyapp import warm_templates  # the config file is read before the app is loaded

    warm_templates(server.app.wsgi())
