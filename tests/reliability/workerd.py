"""A parent that builds the app once and keeps one `flask jobs worker` running in a forked child.

Like gunicorn's master with --preload: the child does exactly what the `flask jobs worker` command does
(app/deadlines/timers_cli.py, called here with the app's context), and when it dies, killed by a test,
the next one is forked at once. Each child's pid is printed on its own line for the test to kill.
"""
import os
import sys
import traceback

from app import create_app
from app.deadlines.timers_cli import worker


def main() -> None:
    app = create_app()  # connects to nothing: each child opens its own database and Redis connections
    while True:
        pid = os.fork()
        if pid == 0:
            os.dup2(2, 1)  # the worker's log goes where the parent's errors go; stdout carries only pids
            try:
                with app.app_context():  # what `flask jobs worker` runs, without click's own context around it
                    worker.callback.__wrapped__(burst=False)
            except BaseException:  # noqa: BLE001 - shown in the worker's log, then the child ends
                traceback.print_exc()
                sys.stderr.flush()
            os._exit(0)
        print(pid, flush=True)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    sys.exit(main())
