"""The classroom app (make app): one port variable, the Host check, idle culling, a token off 127.0.0.1."""

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from servers import free_port, jupyter_env, serve

from dpo_toy import classroom
from dpo_toy.course import ROOT

KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')


def _makefile_default(name):
    match = re.search(rf"^{name}\s*\?=\s*(\S*)\s*$", (ROOT / "Makefile").read_text(), re.M)
    assert match, f"the Makefile does not declare {name} ?= ..."
    return match.group(1)


def _make_app(*assignments):
    return subprocess.run(["make", "-n", "app", *assignments], cwd=ROOT, capture_output=True, text=True).stdout


def test_readme_and_makefile_agree_on_the_app_port():
    """Every ``make app VAR=`` in the README is a Makefile variable the app uses; the default port agrees."""
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"make app ([A-Z_]+)=", readme))
    assert "APP_PORT" in named, "the README must say how to change the app's port"
    for name in named:
        _makefile_default(name)
        assert "dpo_toy.classroom" in _make_app(f"{name}=9") and _make_app(f"{name}=9") != _make_app(), name
    default = _makefile_default("APP_PORT")
    assert int(default) == classroom.DEFAULT_PORT
    assert re.search(rf"APP_PORT[^.\n]*default {default}", readme), "the README states the default port"
    assert "--port=9123" in _make_app("APP_PORT=9123")
    assert f"{classroom.IDLE_TIMEOUT // 60} minutes" in readme, "the README states the idle time"


def test_voila_arguments_loopback_and_classroom():
    """127.0.0.1: Host check on, no token. 0.0.0.0: a token (given or random), Host check off."""
    args, settings, token = classroom.voila_arguments(port=9000)
    assert settings == {"allow_remote_access": False} and token == ""
    assert "--port=9000" in args and "--Voila.ip=127.0.0.1" in args and not any("token" in a for a in args)
    assert f"--MappingKernelManager.cull_idle_timeout={classroom.IDLE_TIMEOUT}" in args
    args, settings, token = classroom.voila_arguments(host="0.0.0.0")
    assert settings == {"allow_remote_access": True} and len(token) >= 12 and f"--Voila.token={token}" in args
    assert classroom.voila_arguments(host="0.0.0.0")[2] != token, "a fresh random token each time"
    assert classroom.voila_arguments(host="0.0.0.0", token="blue-whale")[2] == "blue-whale"


@pytest.mark.parametrize(
    "kwargs, match",
    [({"port": 0}, "port must be"), ({"port": "8866"}, "port must be"), ({"idle_timeout": 0}, "idle_timeout"),
     ({"cull_interval": -1}, "cull_interval"), ({"token": 5}, "token must be"), ({"host": ""}, "host must be")],
)  # fmt: skip
def test_voila_arguments_reject_bad_input(kwargs, match):
    """Bad ports, times, tokens or hosts raise, naming the argument."""
    with pytest.raises((ValueError, TypeError), match=match):
        classroom.voila_arguments(**kwargs)


def _get(url, host=None):
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _status_no_redirect(url, host=None):
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _app(tmp_path, *args):
    port = free_port()
    host = next((a.split("=", 1)[1] for a in args if a.startswith("--host=")), "127.0.0.1")
    command = [sys.executable, "-m", "dpo_toy.classroom", f"--port={port}", "--no-browser", *args]
    return port, serve("app", command, f"http://{host}:{port}/voila/static/", tmp_path, jupyter_env(tmp_path))


def _alive(url, kernel_id):
    return _get(f"{url}api/kernels/{kernel_id}")[0] == 200


def _wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def test_forged_host_is_refused_and_idle_kernels_are_culled(tmp_path):
    """A forged Host gets 403; a kernel with no open page goes after the idle time, one with a page stays."""
    import websocket  # websocket-client, a jupyter_server dependency

    idle = 4  # seconds: longer than a page load takes here, short enough to keep the test quick
    port, server = _app(tmp_path, f"--idle-timeout={idle}", "--cull-interval=1")
    url = f"http://127.0.0.1:{port}/"
    with server:
        assert _get(url, host=f"evil.example:{port}")[0] == 403
        assert _get(url, host=f"rebind.attacker.test:{port}")[0] == 403
        assert _get(f"{url}api/kernels/00000000-0000-0000-0000-000000000000", host="evil.example")[0] == 403
        kernels = []
        for host in (f"localhost:{port}", None):  # the served address, by name and by number
            status, page = _get(url, host=host)
            assert status == 200
            kernels.append(KERNEL_ID.search(page).group(1))
            assert _alive(url, kernels[-1]), "a kernel per page load"
        closed, open_page = kernels
        channel = websocket.create_connection(f"ws://127.0.0.1:{port}/api/kernels/{open_page}/channels", timeout=30)
        try:
            assert _wait_until(lambda: not _alive(url, closed), 60), "the kernel without a page was not culled"
            time.sleep(idle + 3)
            assert _alive(url, open_page), "a kernel whose page is open must not be culled"
        finally:
            channel.close()
        assert _wait_until(lambda: not _alive(url, open_page), 60), "closing the page must let it be culled"
        status, page = _get(url)
        assert status == 200 and KERNEL_ID.search(page), "the app still serves after culling"


def test_off_loopback_the_app_requires_its_token(tmp_path):
    """Served beyond 127.0.0.1 (here 127.0.0.2), no or a wrong token gets no page and starts no kernel."""
    port, server = _app(tmp_path, "--host=127.0.0.2", "--token=blue-whale-42")
    url = f"http://127.0.0.2:{port}/"
    with server:
        for query in ("", "?token=wrong"):
            status = _status_no_redirect(url + query)
            assert status in (302, 401, 403), f"{query or 'no token'}: {status}"
        assert _get(f"{url}api/kernels/00000000-0000-0000-0000-000000000000")[0] == 403
        status, page = _get(f"{url}?token=blue-whale-42")
        assert status == 200 and KERNEL_ID.search(page)
    assert "learners open http://127.0.0.2:" in (tmp_path / "app.log").read_text()
