"""gunicorn's settings for the portal, read from the working directory (the project root) by every
`gunicorn 'webapp:create_app()'` started there; flags on the command line still win.

Garbage collection (measured with scripts/bench_http.py, see docs/performance.md): once a worker
has loaded the app, its tens of thousands of long-lived objects (modules, mappers, compiled
templates) are frozen out of the collector's way, and the young generation is collected after
10,000 allocations instead of 700 (a request allocates tens of thousands of short-lived objects).
"""

import gc


def post_worker_init(worker):
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
