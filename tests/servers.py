"""Test helper (not a test module): run a Jupyter or Voilà server on 127.0.0.1 for the length of a test."""

import contextlib
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(tmp_path):
    """The environment with Jupyter's config, runtime and data folders moved into tmp_path."""
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path / name.lower())
    return env


@contextlib.contextmanager
def serve(name, command, probe, tmp_path, env, cwd=None, timeout=90):
    """Run ``command`` until the ``probe`` URL answers (any HTTP status); yield the process; stop it after."""
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(probe, timeout=2)
                    break
                except urllib.error.HTTPError:
                    break  # it answers, even if not with a page: it is up
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not start:\n{log_path.read_text()}") from None
                    time.sleep(0.3)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
