"""Infrastructure of the fault harness: the server as a child process (killed by PID),
a private PostgreSQL cluster, a loopback HTTP client, the flows the rows drive
(hosted sign-in, token endpoint, Cognito JSON API) and the invariant checks (I1-I6 of
SECURITY_MATRIX.md §4.2) done with SQL and over HTTP.

Only the standard library, plus botocore (in the project's .venv) to SigV4-sign admin
calls. Every wait is bounded.
"""
import base64
import concurrent.futures
import hashlib
import html
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(
    os.environ.get("COGNATE_BIN")
    or pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "cognate"
)
CALLBACK = "http://localhost:3000/callback"
LOGOUT = "http://localhost:3000/"
PUBLIC_URL = "http://cognate.test"
PASSWORD = "Correct-horse-9"
KEY_ID, SECRET = "AKIDFAULT", "fault-test-secret"
PG_BIN = pathlib.Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


class Fail(AssertionError):
    """An invariant or pass criterion did not hold."""


def check(cond, message):
    if not cond:
        raise Fail(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(*args):
    print("   ", *args, flush=True)


# --------------------------------------------------------------------------- HTTP


class Resp:
    def __init__(self, status, headers, body, cookies):
        self.status, self.headers, self.body, self.cookies = status, headers, body, cookies

    def json(self):
        return json.loads(self.body or b"null")

    @property
    def text(self):
        """The body; for an HTML page, its error message."""
        text = self.body.decode("utf-8", "replace")
        m = re.search(r'<p class="error"[^>]*>(.*?)</p>', text, re.S)
        return f"<html: {m.group(1).strip()}>" if m else text

    def location(self):
        return self.headers.get("location", "")


def request(method, url, body=None, headers=None, timeout=30):
    """One HTTP request on a fresh connection; never follows redirects. Connection
    failures come back as status 0 (the server is down), never as an exception."""
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        cookies = {}
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data, cookies)
    except (OSError, http.client.HTTPException) as e:
        return Resp(0, {}, str(e).encode(), {})
    finally:
        conn.close()


class Browser:
    """A cookie-keeping client (one cookie jar, every path)."""

    def __init__(self):
        self.jar = {}

    def go(self, method, url, form=None, timeout=30, base=None):
        if base and url.startswith(PUBLIC_URL):
            url = base + url[len(PUBLIC_URL):]
        headers = {}
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        r = request(method, url, body, headers, timeout)
        self.jar.update(r.cookies)
        return r


def query_param(url, name):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)).get(name)


def attr_after(page, anchor, attr):
    rest = page[page.index(anchor):]
    m = re.search(attr + r'="([^"]*)"', rest)
    return html.unescape(m.group(1))


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def jwt_kid(token):
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


# --------------------------------------------------------------------------- databases


class Postgres:
    """A private PostgreSQL 15 cluster: initdb in a temp dir, 127.0.0.1, random port.
    Runs as the `postgres` user when we are root (initdb refuses root)."""

    def __init__(self, root):
        self.dir = pathlib.Path(root) / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir.mkdir(parents=True)
        if self.as_user:
            # The postgres user must reach the directory through the temp dirs above it.
            for parent in list(self.dir.parents)[:3]:
                if str(parent).startswith(tempfile.gettempdir() + "/"):
                    os.chmod(parent, 0o755)
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
        conf = (
            f"listen_addresses='127.0.0.1'\nport={self.port}\nunix_socket_directories='{self.dir}'\n"
            "fsync=on\nmax_connections=200\nshared_buffers=32MB\n"
        )
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(conf)
        self.start()

    def _run(self, argv, check=True, timeout=120):
        argv = [str(a) for a in argv]
        return subprocess.run(self.as_user + argv, capture_output=True, text=True, check=check, timeout=timeout)

    def pg_ctl(self, *args, check=True):
        return self._run([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "pg.log", "-w", "-t", "60", *args], check=check)

    def start(self):
        self.pg_ctl("start")

    def stop(self, mode="fast"):
        self.pg_ctl("stop", "-m", mode, check=False)

    def restart(self, mode="fast"):
        self.pg_ctl("restart", "-m", mode)

    def postmaster_pid(self):
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def url(self, db="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql, db="postgres"):
        out = subprocess.run(
            ["psql", self.url(db), "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=60,
        )
        if out.returncode:
            raise RuntimeError(f"psql: {out.stderr}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def create_db(self, name):
        self.psql(f"create database {name}")
        return self.url(name)

    def close(self):
        self.stop("immediate")


class Db:
    """SQL on the server's database: sqlite3 (stdlib) or psql."""

    def __init__(self, url, pg=None):
        self.url, self.pg = url, pg
        self.sqlite_path = url.split("://", 1)[1] if url.startswith("sqlite:") else None
        self.name = url.rsplit("/", 1)[1] if pg else None

    @property
    def kind(self):
        return "sqlite" if self.sqlite_path else "postgres"

    def rows(self, sql):
        if self.sqlite_path:
            con = sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                return [tuple("" if v is None else str(v) for v in r) for r in con.execute(sql).fetchall()]
            finally:
                con.close()
        return [tuple(r) for r in self.pg.psql(sql, self.name)]

    def scalar(self, sql):
        rows = self.rows(sql)
        return rows[0][0] if rows else None


# --------------------------------------------------------------------------- the server


class Server:
    """`cognate serve` as a child process on a loopback port."""

    def __init__(self, env, workdir, name="a", prefix=(), preexec=None, port=None):
        self.env, self.name, self.prefix, self.preexec = env, name, list(prefix), preexec
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = pathlib.Path(workdir) / f"server-{name}.log"
        self.proc = None

    def start(self, timeout=60):
        logf = open(self.log_path, "a")
        argv = self.prefix + [str(BINARY), "serve", "--listen", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=logf, stderr=logf, preexec_fn=self.preexec)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Fail(f"server {self.name} exited with {self.proc.returncode}; see {self.log_path}")
            if request("GET", self.url + "/health", timeout=2).status == 200:
                return self
            time.sleep(0.1)
        self.kill9()
        raise Fail(f"server {self.name} did not start within {timeout}s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=30)

    def stop(self):
        """Graceful: SIGINT (the server drains and exits)."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def panicked(self):
        return "panicked" in self.log_path.read_text(errors="replace")


class Env:
    """One backend (SQLite file or a fresh database on the private cluster), a master
    key, an API key, and a pool with a confidential client and a confirmed user."""

    def __init__(self, backend, root, pg=None, sqlite_dir=None):
        self.root = pathlib.Path(root)
        if backend == "sqlite":
            d = pathlib.Path(sqlite_dir or self.root)
            d.mkdir(parents=True, exist_ok=True)
            url = f"sqlite://{d}/cognate.db"
        else:
            url = pg.create_db(f"fault_{os.urandom(6).hex()}")
        self.db = Db(url, pg)
        self.env = dict(
            os.environ,
            DATABASE_URL=url,
            COGNATE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
            COGNATE_API_KEYS=f"{KEY_ID}:{SECRET}",
            COGNATE_NO_DEMO="true",
            # One issuer for every instance and restart, as behind a load balancer.
            COGNATE_PUBLIC_URL=PUBLIC_URL,
            # The harness is one client standing in for many; limits have their own tests.
            COGNATE_RATE_LIMITS="off",
            RUST_LOG="warn",
        )
        self.servers = []
        pool = self.cli("pool", "create", "--name", "fault")
        self.pool = pool["pool_id"]
        client = self.cli(
            "client", "create", "--pool", self.pool, "--name", "app", "--secret",
            "--callback-url", CALLBACK, "--logout-url", LOGOUT,
            # The rows race and replay rotated refresh tokens (R-5, I2).
            "--refresh-token-rotation", "enabled",
        )
        self.client_id, self.client_secret = client["client_id"], client["client_secret"]
        self.cli("user", "create", "--pool", self.pool, "--username", "alice",
                 "--password", PASSWORD, "--attribute", "email=alice@example.com")

    def cli(self, *args):
        out = subprocess.run([str(BINARY), *args], env=self.env, capture_output=True, text=True, timeout=120)
        if out.returncode:
            raise Fail(f"cognate {' '.join(args)}: {out.stderr}")
        return json.loads(out.stdout)

    def server(self, name="a", **kw):
        s = Server(self.env, self.root, name=name, **kw)
        self.servers.append(s)
        return s

    def close(self):
        for s in self.servers:
            s.kill9()


# --------------------------------------------------------------------------- flows


class Api:
    """OAuth endpoints and the Cognito JSON API of one server."""

    def __init__(self, env, server):
        self.env, self.base = env, server.url
        self.issuer = f"{server.url}/{env.pool}"

    # -- hosted UI and token endpoint
    def authorize_url(self):
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": self.env.client_id,
            "redirect_uri": CALLBACK, "scope": "openid email profile",
            "state": os.urandom(6).hex(),
        })
        return f"{self.issuer}/oauth2/authorize?{q}"

    def sign_in(self, browser, username="alice", password=PASSWORD):
        """authorize → login page → post; returns the code."""
        r = browser.go("GET", self.authorize_url())
        check(r.status == 302, f"authorize: {r.status} {r.text[:200]}")
        login = r.location()
        if login.startswith(CALLBACK):
            return query_param(login, "code")
        page = browser.go("GET", urllib.parse.urljoin(self.base, login), base=self.base)
        check(page.status == 200, f"login page: {page.status}")
        action = urllib.parse.urljoin(self.base, attr_after(page.text, "<form", "action"))
        csrf = attr_after(page.text, 'name="csrf_token"', "value")
        r = browser.go("POST", action, {"csrf_token": csrf, "username": username, "password": password},
                       base=self.base)
        check(r.status == 302 and r.location().startswith(CALLBACK), f"sign-in: {r.status} {r.location()}")
        return query_param(r.location(), "code")

    def code(self, browser):
        """A code from an existing hosted-UI session (no login page)."""
        r = browser.go("GET", self.authorize_url())
        if r.status != 302 or not r.location().startswith(CALLBACK):
            return None, r
        return query_param(r.location(), "code"), r

    def token(self, form, timeout=30):
        basic = base64.b64encode(f"{self.env.client_id}:{self.env.client_secret}".encode()).decode()
        return request(
            "POST", f"{self.issuer}/oauth2/token", urllib.parse.urlencode(form),
            {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
            timeout,
        )

    def redeem(self, code, timeout=30):
        return self.token({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}, timeout)

    def refresh(self, refresh_token, timeout=30):
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token}, timeout)

    def userinfo(self, access_token):
        return request("GET", f"{self.issuer}/oauth2/userInfo", headers={"Authorization": f"Bearer {access_token}"})

    def jwks(self):
        return request("GET", f"{self.issuer}/.well-known/jwks.json")

    def revoke(self, token):
        basic = base64.b64encode(f"{self.env.client_id}:{self.env.client_secret}".encode()).decode()
        return request(
            "POST", f"{self.issuer}/oauth2/revoke", urllib.parse.urlencode({"token": token}),
            {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
        )

    # -- Cognito JSON API
    def call(self, action, body, signed=False, timeout=30, date=None):
        data = json.dumps(body)
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
        }
        if signed:
            headers = sign(self.base + "/", data, headers, date)
        return request("POST", self.base + "/", data, headers, timeout)

    def sign_up(self, username, email, password=PASSWORD):
        return self.call("SignUp", {
            "ClientId": self.env.client_id, "Username": username, "Password": password,
            "SecretHash": self.secret_hash(username),
            "UserAttributes": [{"Name": "email", "Value": email}],
        })

    def confirm_sign_up(self, username, code):
        return self.call("ConfirmSignUp", {
            "ClientId": self.env.client_id, "Username": username, "ConfirmationCode": code,
            "SecretHash": self.secret_hash(username),
        })

    def secret_hash(self, username):
        import hmac

        mac = hmac.new(self.env.client_secret.encode(), (username + self.env.client_id).encode(), hashlib.sha256)
        return base64.b64encode(mac.digest()).decode()


def sign(url, data, headers, date=None):
    """SigV4 as an AWS SDK signs (botocore), optionally at another time (clock skew)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="POST", url=url, data=data, headers=dict(headers))
    auth = SigV4Auth(Credentials(KEY_ID, SECRET), "cognito-idp", "us-east-1")
    if date is None:
        auth.add_auth(req)
    else:
        import datetime
        from unittest import mock

        fixed = datetime.datetime.fromtimestamp(date, datetime.timezone.utc).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
            auth.add_auth(req)
    return dict(req.headers.items())


def outbox_code(db, email, kind="verification"):
    """The six-digit code in the newest message to `email`, read with SQL."""
    newline = "char(10)" if db.kind == "sqlite" else "chr(10)"
    body = db.scalar(
        f"select replace(body_text, {newline}, ' ') from outbox where lower(recipient) = lower('{email}') and kind = '{kind}' order by created_at desc, message_id limit 1"
    )
    m = re.search(r"\b(\d{6})\b", body or "")
    return m.group(1) if m else None


def aws_type(r):
    try:
        body = r.json()
    except ValueError:
        return ""
    return body.get("__type", "") if isinstance(body, dict) else ""


def parallel(fns, workers=32, timeout=120):
    """Runs the callables concurrently; their results (or exceptions) in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        futures = [ex.submit(f) for f in fns]
        out = []
        for f in futures:
            try:
                out.append(f.result(timeout=timeout))
            except Exception as e:  # noqa: BLE001 - recorded as an outcome
                out.append(e)
        return out


class Barrier:
    """Releases N threads at once (bounded wait)."""

    def __init__(self, n):
        self.b = threading.Barrier(n, timeout=60)

    def wait(self):
        self.b.wait()


# --------------------------------------------------------------------------- invariants


def i3_consistent(db):
    """I3: no partial state, checked with SQL (and SQLite's integrity_check)."""
    problems = []
    if db.kind == "sqlite":
        ok = db.scalar("pragma integrity_check")
        if ok != "ok":
            problems.append(f"integrity_check: {ok}")
        fk = db.rows("pragma foreign_key_check")
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")
    queries = {
        # A native user is unconfirmed with a pending code, or has a password.
        "user without password hash": "select count(*) from users u where u.password_hash is null "
        "and u.status in ('CONFIRMED','UNCONFIRMED','RESET_REQUIRED') "
        "and not exists (select 1 from user_identities i where i.user_id = u.user_id)",
        "unconfirmed user without code": "select count(*) from users u where u.status = 'UNCONFIRMED' "
        "and not exists (select 1 from user_codes c where c.user_id = u.user_id and c.purpose = 'signup')",
        "confirmed user with a pending sign-up code": "select count(*) from users u where u.status = 'CONFIRMED' "
        "and exists (select 1 from user_codes c where c.user_id = u.user_id and c.purpose = 'signup')",
        "refresh token without family": "select count(*) from refresh_tokens r "
        "where not exists (select 1 from token_families f where f.origin_jti = r.origin_jti)",
        "code without family": "select count(*) from auth_codes c "
        "where not exists (select 1 from token_families f where f.origin_jti = c.origin_jti)",
        "family with two live refresh tokens": "select count(*) from (select origin_jti from refresh_tokens "
        "where used_at is null group by origin_jti having count(*) > 1) x",
        "attribute without user": "select count(*) from user_attributes a "
        "where not exists (select 1 from users u where u.user_id = a.user_id)",
        "pool without signing key": "select count(*) from user_pools p "
        "where not exists (select 1 from signing_keys k where k.pool_id = p.pool_id)",
    }
    for name, sql in queries.items():
        n = int(db.scalar(sql) or 0)
        if n:
            problems.append(f"{name}: {n}")
    return problems


def kids(api):
    r = api.jwks()
    check(r.status == 200, f"JWKS: {r.status}")
    keys = r.json()["keys"]
    for k in keys:
        private = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(k)
        check(not private, f"JWKS publishes private members {private}")
    return [k["kid"] for k in keys]
