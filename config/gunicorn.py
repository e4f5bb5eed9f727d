"""gunicorn's settings for Retention: `gunicorn -c config/gunicorn.py --workers 3 --bind ...`.

Each worker delivers the emails its requests queued on a background thread
(outbox.after_response). When a worker exits (a restart, a deploy, --max-requests, a
scale-down), `worker_exit` lets that thread send what it was handed before the process
goes, instead of leaving it to the next deliver_emails run (up to 5 minutes later).
"""

import sys

wsgi_app = "config.wsgi:application"
# A worker told to stop gets this long before the master kills it: room for the
# delivery thread's drain (AfterResponseDelivery.STOP_WAIT_SECONDS) and a request.
graceful_timeout = 30


def worker_exit(server, worker):
    """In the exiting worker: drain its delivery thread (bounded; what is left stays in
    the outbox for deliver_emails, exactly once). Also called in the master for a
    worker that was already gone, where there is no thread to drain."""
    after_response = sys.modules.get("outbox.after_response")
    if after_response is not None:  # imported only in a worker that served a request
        after_response.after_response_delivery.finish()
