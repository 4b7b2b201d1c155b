"""The classroom app server (``make app``): Voilà on ``app/classroom.ipynb``, ready for a class of 40.

Every page load starts a kernel (about 110 MB). Three settings make that safe for a class:

- **Idle kernels are culled.** A kernel with no open page and no activity for ``IDLE_TIMEOUT``
  seconds (5 minutes) is shut down; the check runs every ``CULL_INTERVAL`` seconds. A kernel whose
  page is still open is never culled, however long the class looks at it.
- **Only the served address is accepted.** On 127.0.0.1 (the default) a request whose ``Host``
  header is not a loopback address or ``localhost`` is refused with 403, so a web page that
  rebinds its own DNS name to 127.0.0.1 cannot drive the kernels.
- **Beyond this machine, a token.** Any other address (``make app APP_HOST=0.0.0.0`` to serve the
  classroom network) requires a token: ``APP_TOKEN`` if given, else a random one, printed in the
  URL to hand out. Learners who open that URL once are remembered by a cookie.

Command line (what the Makefile calls)::

    python -m dpo_toy.classroom --port 8866 [--host 0.0.0.0] [--token WORD] [--no-browser]
"""

import argparse
import ipaddress
import secrets
import socket
import sys
from pathlib import Path

from .course import APP

NOTEBOOK = APP / "classroom.ipynb"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
IDLE_TIMEOUT = 300
"""Seconds a kernel with no open page may stay idle before it is shut down."""
CULL_INTERVAL = 60
"""Seconds between two checks for idle kernels."""


def is_loopback(host):
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): served to this machine only."""
    if not isinstance(host, str) or not host:
        raise TypeError(f"host must be a non-empty string such as '127.0.0.1', got {host!r}")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: treat as reachable from the network


def requires_token(host):
    """Every address other than the default 127.0.0.1 (and localhost, ::1) requires a token."""
    return not (is_loopback(host) and host in (DEFAULT_HOST, "localhost", "::1"))


def voila_arguments(port=DEFAULT_PORT, host=DEFAULT_HOST, token="", idle_timeout=IDLE_TIMEOUT,
                    cull_interval=CULL_INTERVAL, open_browser=False, notebook=NOTEBOOK):  # fmt: skip
    """Voilà's command line and its ``tornado_settings`` for serving ``notebook`` as described above.

    Returns
    -------
    (list of str, dict, str)
        The arguments, the Tornado settings (the Host check), and the token ("" on 127.0.0.1).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port must be an integer from 1 to 65535 (APP_PORT), got {port!r}")
    for name, value in (("idle_timeout", idle_timeout), ("cull_interval", cull_interval)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if not isinstance(token, str):
        raise TypeError(f"token must be a string, got {type(token).__name__}")
    remote = requires_token(host)
    if remote and not token:
        token = secrets.token_urlsafe(9)
    if not remote:
        token = ""  # on 127.0.0.1 the Host check is the guard; a token would only get in the way
    args = [
        str(notebook),
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",  # the documented port or an error, never a surprise port
        f"--MappingKernelManager.cull_idle_timeout={idle_timeout}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        "--MappingKernelManager.cull_connected=False",  # an open page keeps its kernel
    ]
    if token:
        args.append(f"--Voila.token={token}")
    if not open_browser:
        args.append("--no-browser")
    # allow_remote_access=False turns on jupyter_server's Host check (Voilà switches it off)
    settings = {"allow_remote_access": remote}
    return args, settings, token


def _lan_address():
    """This machine's address on the network it routes through (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return socket.gethostname()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dpo_toy.classroom", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s (make app APP_PORT=…)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="default %(default)s; 0.0.0.0 serves the network")
    parser.add_argument("--token", default="", help="the token required off 127.0.0.1 (default: a random one)")
    parser.add_argument("--idle-timeout", type=int, default=IDLE_TIMEOUT, help="seconds (default %(default)s)")
    parser.add_argument("--cull-interval", type=int, default=CULL_INTERVAL, help="seconds (default %(default)s)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--notebook", default=str(NOTEBOOK), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        voila_args, settings, token = voila_arguments(
            args.port, args.host, args.token, args.idle_timeout, args.cull_interval, not args.no_browser,
            Path(args.notebook),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    if token:
        shown = _lan_address() if args.host in ("0.0.0.0", "::") else args.host
        print(f"Classroom app: learners open http://{shown}:{args.port}/?token={token}", flush=True)
    print(f"Idle kernels (no open page) are shut down after {args.idle_timeout} s.", flush=True)

    from traitlets.config import Config
    from voila.app import Voila

    config = Config({"Voila": {"tornado_settings": settings}})
    Voila.launch_instance(argv=voila_args, config=config)


if __name__ == "__main__":
    main(sys.argv[1:])
