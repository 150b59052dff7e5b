"""The README's quick start, followed literally on a fresh copy of the repository.

The blocks the README marks `<!-- readme-test: NAME -->` run as written, in order:
`serve` in the background (`cargo run` in the copy, whose `target/` is this build's, so
only cognate itself is compiled again), a sign-in in headless Chromium at the
authorize URL the server printed and the printed `curl` command with the code, then in
a second shell `env`, `boto3` (saved as demo.py and run with `python3 demo.py`, as the
README says), `aws-cli` and `outbox`. The README's SQLite server on 127.0.0.1:9229: run
once, on the SQLite pass of ./test.sh, and with Chromium (COGNATE_BROWSER_TESTS=1).
"""

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve()
MARK = re.compile(r"<!-- readme-test: ([a-z0-9-]+)[^>]*-->\s*\n```[a-z]*\n(.*?)```", re.S)
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("COGNATE_BROWSER_TESTS") != "1",
        reason="needs Chromium (COGNATE_BROWSER_TESTS=1, as ./test.sh sets)",
    ),
    pytest.mark.skipif(
        bool(os.environ.get("COGNATE_TEST_POSTGRES_URL")),
        reason="the README's server is SQLite's; run once, on the SQLite pass",
    ),
]


def readme_blocks():
    """The marked blocks, by name, in the README's order."""
    blocks = MARK.findall((ROOT / "README.md").read_text())
    names = [name for name, _ in blocks]
    assert names == ["serve", "env", "boto3", "aws-cli", "outbox"], names
    return dict(blocks)


def fresh_copy(into):
    """The repository's files as a clone has them (the working tree's versions), with
    `target/` pointing at this build so nothing but cognate itself compiles again."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    (into / "target").symlink_to(TARGET)


def shell_env():
    """A user's environment: Python with boto3 and the AWS CLI first on the PATH (the
    suite's venv), no AWS settings of the machine, and no CARGO_TARGET_DIR (the README's
    `target/` is the copy's)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CARGO_TARGET_DIR", "COGNATE_", "DATABASE_URL"))}
    venv_bin = str(pathlib.Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env["PATH"]
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


def bash(script, cwd, env, timeout=900):
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"{script}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
    return run.stdout


def read_demo_facts(server, deadline):
    """The server's stdout up to the `curl` command it prints after the demo's facts."""
    lines = []
    while time.time() < deadline:
        line = server.stdout.readline()
        if not line:
            pytest.fail("the server stopped:\n" + "".join(lines) + server.stderr.read())
        lines.append(line)
        if "code=<code>" in line:
            return "".join(lines)
    pytest.fail("no demo facts printed:\n" + "".join(lines))


class Chromium:
    """Headless Chromium through chromedriver's W3C WebDriver API (plain HTTP)."""

    def __init__(self, profile):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{self.base}/status", timeout=1).json()["value"]["ready"]:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                f"--user-data-dir={profile}"]
        caps = {"alwaysMatch": {"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}
        session = self.call("post", "/session", {"capabilities": caps})
        self.session = f"/session/{session['sessionId']}"

    def call(self, method, path, body=None):
        res = requests.request(method, self.base + path, json=body, timeout=60)
        value = res.json()["value"]
        assert res.ok, value
        return value

    def goto(self, url):
        self.call("post", f"{self.session}/url", {"url": url})

    def type_into(self, css, text):
        element = self.call("post", f"{self.session}/element",
                            {"using": "css selector", "value": css})[ELEMENT]
        self.call("post", f"{self.session}/element/{element}/value", {"text": text})
        return element

    def click(self, element):
        self.call("post", f"{self.session}/element/{element}/click", {})

    def url(self):
        return self.call("get", f"{self.session}/url")

    def quit(self):
        try:
            self.call("delete", self.session)
        finally:
            self.driver.terminate()
            self.driver.wait(10)


def test_the_readme_quick_start_works_as_written():
    blocks = readme_blocks()
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 9229)) == 0:
            pytest.fail("something already listens on 127.0.0.1:9229, the README's port")
    with tempfile.TemporaryDirectory() as tmp:
        clone = pathlib.Path(tmp) / "cognate"
        clone.mkdir()
        fresh_copy(clone)
        env = shell_env()
        # Terminal 1: the server (built by `cargo run` first), left running.
        server = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", blocks["serve"]],
            cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        browser = None
        try:
            facts = read_demo_facts(server, time.time() + 900)
            password = re.search(r"password\s+(\S+)", facts).group(1)
            authorize = re.search(r"^\s+(http://127\.0\.0\.1:9229/\S+/oauth2/authorize\?\S+)$",
                                  facts, re.M).group(1)
            curl = re.search(r"^\s+(curl .*?code=<code>)$", facts, re.M | re.S).group(1)

            # The browser sign-in, and the printed command with the code it ends with.
            browser = Chromium(pathlib.Path(tmp) / "chromium")
            browser.goto(authorize)
            browser.type_into("#username", "demo")
            submit = browser.type_into("#password", password)
            browser.call("post", f"{browser.session}/element/{submit}/value", {"text": "\ue007"})
            for _ in range(100):
                url = browser.url()
                if url.startswith("http://localhost:3000/callback"):
                    break
                time.sleep(0.1)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            assert query.get("state") == ["demo"], url
            tokens = json.loads(bash(curl.replace("<code>", query["code"][0]), clone, env))
            assert {"id_token", "access_token", "refresh_token"} <= tokens.keys(), tokens

            # Terminal 2: the demo's facts in the shell, boto3, the AWS CLI, the outbox.
            (clone / "demo.py").write_text(blocks["boto3"])
            out = bash(blocks["env"] + "python3 demo.py\n" + blocks["aws-cli"]
                       + blocks["outbox"] + 'echo "code=$CODE"\n', clone, env)
            assert "demo@example.com" in out and "['demo']" in out, out
            assert re.search(r"^code=\d{6}$", out, re.M), out
            confirmed = bash(blocks["env"] + "cognate user list --pool \"$POOL\"", clone, env)
            newcomer = [u for u in json.loads(confirmed) if u["username"] == "newcomer"]
            assert newcomer and newcomer[0]["status"] == "CONFIRMED", confirmed
        finally:
            if browser:
                browser.quit()
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
