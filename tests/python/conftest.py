"""The Cognito API suite: boto3, pycognito and the AWS CLI against a real cognate.

A session-wide server runs the debug binary on a free loopback port with a fresh
SQLite database. Every response boto3 parses is validated against botocore's output
shape for that operation, so each call also checks the wire format.
"""
import base64
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.validate import ParamValidator

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "cognate"
KEY_ID = "AKIDCOGNATETEST"
SECRET = "cognate-test-secret"
PASSWORD = "Correct-horse-9"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The running server's environment (database and master key), for CLI calls.
SERVER_ENV = {}


# CLI commands that change what servers cache (pools, clients, keys, domains): a
# running server sees their writes at its next config check (`serve --config-check-ms`,
# 1 s by default), so the CLI call returns once that has passed.
CACHED_WRITES = {("pool", "update"), ("client", "update"), ("pool", "rotate-keys")}
CONFIG_CHECK_SECONDS = 1.2


def cognate_cli(*args, env=None):
    """Runs the cognate CLI on the test server's database (or `env`'s); its JSON output."""
    out = subprocess.run([str(BINARY), *args], env=env or SERVER_ENV, capture_output=True, text=True, check=True)
    if tuple(args[:2]) in CACHED_WRITES:
        time.sleep(CONFIG_CHECK_SECONDS)
    return json.loads(out.stdout)


def outbox_code(email, env=None):
    """The six-digit code in the newest message to `email`."""
    import re

    messages = cognate_cli("outbox", "--to", email, "--limit", "1", env=env)
    assert messages, f"no message to {email}"
    return re.search(r"\b(\d{6})\b", messages[0]["body_text"]).group(1)


def new_server_env(**extra):
    """A server environment on a fresh database: SQLite in a temporary directory, or a new
    database on COGNATE_TEST_POSTGRES_URL's server; COGNATE_PY_DATABASE_URL names one."""
    tmp = tempfile.mkdtemp(prefix="cognate-py-")
    database_url = os.environ.get("COGNATE_PY_DATABASE_URL") or f"sqlite://{tmp}/cognate.db"
    admin_url = os.environ.get("COGNATE_TEST_POSTGRES_URL")
    if admin_url and not os.environ.get("COGNATE_PY_DATABASE_URL"):
        # A fresh database on the PostgreSQL server, like the Rust suite's.
        name = f"cognate_t_py{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", admin_url, "-qc", f"create database {name}"], check=True)
        database_url = admin_url.rsplit("/", 1)[0] + "/" + name
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        COGNATE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
        COGNATE_API_KEYS=f"{KEY_ID}:{SECRET}",
        COGNATE_NO_DEMO="true",
        # The suite is one client sending hundreds of calls; the limits have their own tests.
        COGNATE_RATE_LIMITS="off",
        RUST_LOG="warn",
        COGNATE_PY_TMP=tmp,
        **extra,
    )


@pytest.fixture(scope="session")
def server_env():
    """The server's environment; `cognate` CLI commands run with it share its database."""
    env = new_server_env()
    SERVER_ENV.update(env)
    return env


def cognate(server_env, *args):
    """Runs a `cognate` CLI command on the server's database; returns its JSON output."""
    out = subprocess.run([str(BINARY), *args], env=server_env, capture_output=True, text=True)
    assert out.returncode == 0, f"cognate {' '.join(args)}: {out.stderr}"
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def server(server_env):
    yield from run_server(server_env)


@pytest.fixture
def clock_server():
    """A server of its own whose clock tests move (`serve --test-clock`): moving the
    shared server's clock would expire every other test's tokens. Yields (url, env)."""
    env = new_server_env(COGNATE_TEST_CLOCK="true")
    for url in run_server(env):
        yield url, env


def advance_clock(url, seconds):
    """Moves a --test-clock server's clock forward; returns its new time."""
    req = urllib.request.Request(
        f"{url}/_test/clock",
        data=json.dumps({"advance_seconds": seconds}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as res:
        return json.load(res)["now"]


def run_server(env):
    """Runs `cognate serve` with `env` until the generator is closed; yields its URL."""
    assert BINARY.exists(), f"build first: {BINARY} (./test.sh does)"
    tmp = env["COGNATE_PY_TMP"]
    port = _free_port()
    log = open(pathlib.Path(tmp) / "server.log", "w")
    proc = subprocess.Popen([str(BINARY), "serve", "--listen", f"127.0.0.1:{port}"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"cognate did not start; see {log.name}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _validate_response(parsed, model, **_):
    """Fails the call if the response does not fit botocore's output shape."""
    if model.output_shape is None or "Error" in parsed:
        return
    body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, model.output_shape)
    assert not report.has_errors(), f"{model.name}: {report.generate_report()}"


def make_client(url, key_id=KEY_ID, secret=SECRET, **config):
    client = boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )
    client.meta.events.register("after-call.cognito-identity-provider.*", _validate_response)
    return client


@pytest.fixture
def idp(server):
    """A boto3 client signing with a configured key."""
    return make_client(server)


@pytest.fixture
def unsigned(server):
    """A boto3 client that signs nothing (public actions only)."""
    return make_client(server, signature_version=botocore.UNSIGNED)


@pytest.fixture
def pool(idp):
    """A fresh pool (declaring `custom:team`) with a public client allowing every password flow."""
    pool_id = idp.create_user_pool(
        PoolName=f"pool-{uuid.uuid4().hex[:8]}",
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=[
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]
    return {"id": pool_id, "client_id": client["ClientId"]}


def create_user(idp, pool, username, password=PASSWORD, **attributes):
    """A confirmed user with a permanent password."""
    attrs = [{"Name": k, "Value": v} for k, v in attributes.items()]
    idp.admin_create_user(UserPoolId=pool["id"], Username=username, UserAttributes=attrs, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username=username, Password=password, Permanent=True)


def start_new_password_challenge(idp, unsigned, pool, username, password, surface):
    """InitiateAuth (or, for surface "admin", AdminInitiateAuth) with a temporary password."""
    params = {"USERNAME": username, "PASSWORD": password}
    if surface == "admin":
        return idp.admin_initiate_auth(
            UserPoolId=pool["id"], ClientId=pool["client_id"], AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=params
        )
    return unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)


def answer_new_password(idp, unsigned, pool, username, session, new_password, surface):
    """Answers NEW_PASSWORD_REQUIRED through the user's or the administrator's API."""
    args = dict(
        ClientId=pool["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=session,
        ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
    )
    if surface == "admin":
        return idp.admin_respond_to_auth_challenge(UserPoolId=pool["id"], **args)
    return unsigned.respond_to_auth_challenge(**args)


def claims(jwt):
    """A JWT's payload, unverified."""
    body = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def lambda_runner(handlers, names, events_dir, prefix=""):
    """Serves the functions `names` of the Lambda handler file `handlers` through
    tools/lambda_runner/lambda_runner.py, each as `<prefix><name with - for _>`, with
    TRIGGER_EVENTS_DIR set to `events_dir`; a generator for a fixture: yields the
    runner's URL (the server's COGNATE_LAMBDA_ENDPOINT), then stops it."""
    runner = ROOT / "tools" / "lambda_runner" / "lambda_runner.py"
    functions = [f"{prefix}{n.replace('_', '-')}={handlers}:{n}" for n in names]
    proc = subprocess.Popen([sys.executable, str(runner), "--port", "0", *functions], stdout=subprocess.PIPE,
                            env=dict(os.environ, TRIGGER_EVENTS_DIR=str(events_dir)), text=True)
    try:
        port = int(proc.stdout.readline().split()[-1])
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
