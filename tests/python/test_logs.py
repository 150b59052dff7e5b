"""Secrets in logs and log injection (SECURITY_MATRIX.md SE-04): a server of its own logs
at trace level to a file while every flow runs with unique sentinel passwords, a
sentinel API secret and a generated client secret; afterwards no password, secret,
code, token or cookie the flows used or received appears in the server's output, nor
any header dump, and control characters sent in usernames and user agents appear only
escaped. The same holds for the JSON lines log (`--log-format json`) and for the auth
events the workload recorded (`cognate events`), and every JSON log line of a request
carries the request id the server echoed.
"""
import base64
import hashlib
import hmac
import html
import json
import os
import pathlib
import re
import subprocess
import sys
import urllib.parse
import uuid

import boto3
import botocore
import pytest
from botocore.config import Config

from conftest import BINARY, new_server_env, outbox_code, run_server

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fault"))
from harness import Browser, attr_after, query_param, request  # noqa: E402

CALLBACK = "https://app.example.com/cb"
# A raw ANSI colour sequence and a forged log line: they must never reach the log as is.
ANSI = "\x1b[31mSE04-RED"
FORGED = "SE04-FORGED-LINE"


def sentinel(tag):
    """A unique value that passes the password policy."""
    return f"Se04-{tag}-{uuid.uuid4().hex[:12]}-Aa9!"


@pytest.fixture(params=["text", "json"])
def logged_server(request):
    """A server logging everything at trace level, as text or JSON lines; yields (url,
    env, log path)."""
    api_secret = sentinel("api-secret")
    env = new_server_env()
    env.update(COGNATE_API_KEYS=f"AKIDSE04:{api_secret}", RUST_LOG="trace", COGNATE_LOG_FORMAT=request.param)
    env["SE04_API_SECRET"] = api_secret
    server = run_server(env)
    url = next(server)
    try:
        yield url, env, pathlib.Path(env["COGNATE_PY_TMP"]) / "server.log"
    finally:
        next(server, None)  # stops the server and waits for it


def secret_hash(client_id, client_secret, username):
    mac = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def hosted_code(url, pool_id, client_id, username, password, secrets, user_agent):
    """authorize → login page → POST: the callback's code. Collects the cookies."""
    browser = Browser()
    q = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                                "scope": "openid email", "state": "se04"})
    r = browser.go("GET", f"{url}/{pool_id}/oauth2/authorize?{q}")
    assert r.status == 302, r.text[:300]
    page = browser.go("GET", urllib.parse.urljoin(url, r.location()))
    assert page.status == 200
    action = urllib.parse.urljoin(url, attr_after(page.text, "<form", "action"))
    csrf = attr_after(page.text, 'name="csrf_token"', "value")
    secrets.add(csrf)
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": username, "password": password})
    cookie = "; ".join(f"{k}={v}" for k, v in browser.jar.items())
    r = request("POST", action, form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                                       "User-Agent": user_agent})
    assert r.status == 302 and r.location().startswith(CALLBACK), (r.status, r.text[:300])
    browser.jar.update(r.cookies)
    secrets.update(v for v in browser.jar.values() if len(v) >= 8)
    return query_param(r.location(), "code")


def token_endpoint(url, pool_id, client_id, client_secret, form):
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    r = request("POST", f"{url}/{pool_id}/oauth2/token", urllib.parse.urlencode(form),
                {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
    assert r.status == 200, r.text[:300]
    return basic, r.json()


def token_values(result):
    """The tokens of an OAuth response or a Cognito AuthenticationResult."""
    keys = ("access_token", "id_token", "refresh_token", "AccessToken", "IdToken", "RefreshToken")
    return {result[k] for k in keys if result.get(k)}


# Matrix: SE-04
def test_no_secret_reaches_the_log_and_control_characters_are_escaped(logged_server):
    url, env, log_path = logged_server
    secrets = {env["SE04_API_SECRET"]}
    idp = boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSE04",
                       aws_secret_access_key=env["SE04_API_SECRET"], config=Config(retries={"max_attempts": 0}))
    public = boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1",
                          config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 0}))
    pool_id = idp.create_user_pool(PoolName="se04")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="se04", GenerateSecret=True, CallbackURLs=[CALLBACK],
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"], AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                           "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]
    client_id, client_secret = client["ClientId"], client["ClientSecret"]
    secrets.add(client_secret)
    sh = lambda name: secret_hash(client_id, client_secret, name)  # noqa: E731

    # Admin-created user with a sentinel password; admin password sign-in.
    admin_pw = sentinel("admin-pw")
    secrets.add(admin_pw)
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=admin_pw, Permanent=True)
    out = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "alice", "PASSWORD": admin_pw, "SECRET_HASH": sh("alice")})
    secrets |= token_values(out["AuthenticationResult"])
    idp.admin_get_user(UserPoolId=pool_id, Username="alice")
    idp.list_users(UserPoolId=pool_id, Filter='username = "alice"')

    # Sign-up, confirmation, password and SRP sign-in, refresh, change and reset password.
    signup_pw = sentinel("signup-pw")
    secrets.add(signup_pw)
    public.sign_up(ClientId=client_id, Username="bob", Password=signup_pw, SecretHash=sh("bob"),
                   UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    code = outbox_code("bob@example.com", env=env)
    secrets.add(code)
    public.confirm_sign_up(ClientId=client_id, Username="bob", ConfirmationCode=code, SecretHash=sh("bob"))
    out = public.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "bob", "PASSWORD": signup_pw, "SECRET_HASH": sh("bob")})
    result = out["AuthenticationResult"]
    secrets |= token_values(result)
    out = public.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                               AuthParameters={"REFRESH_TOKEN": result["RefreshToken"], "SECRET_HASH": sh("bob")})
    secrets |= token_values(out["AuthenticationResult"])
    from pycognito.aws_srp import AWSSRP

    srp = AWSSRP(username="bob", password=signup_pw, pool_id=pool_id, client_id=client_id,
                 client_secret=client_secret, client=public).authenticate_user()
    secrets |= token_values(srp["AuthenticationResult"])
    changed_pw = sentinel("changed-pw")
    secrets.add(changed_pw)
    public.change_password(PreviousPassword=signup_pw, ProposedPassword=changed_pw,
                           AccessToken=srp["AuthenticationResult"]["AccessToken"])
    public.forgot_password(ClientId=client_id, Username="bob", SecretHash=sh("bob"))
    reset_code = outbox_code("bob@example.com", env=env)
    reset_pw = sentinel("reset-pw")
    secrets |= {reset_code, reset_pw}
    public.confirm_forgot_password(ClientId=client_id, Username="bob", ConfirmationCode=reset_code,
                                   Password=reset_pw, SecretHash=sh("bob"))
    # A wrong password is logged as a failure, never with the password.
    wrong_pw = sentinel("wrong-pw")
    secrets.add(wrong_pw)
    with pytest.raises(public.exceptions.NotAuthorizedException):
        public.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "bob", "PASSWORD": wrong_pw, "SECRET_HASH": sh("bob")})

    # Hosted sign-in, code exchange with client_secret_basic, refresh, userInfo, revoke.
    code = hosted_code(url, pool_id, client_id, "alice", admin_pw, secrets, "se04-agent")
    secrets.add(code)
    basic, tokens = token_endpoint(url, pool_id, client_id, client_secret,
                                   {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK})
    secrets |= {basic} | token_values(tokens)
    _, refreshed = token_endpoint(url, pool_id, client_id, client_secret,
                                  {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    secrets |= token_values(refreshed)
    r = request("GET", f"{url}/{pool_id}/oauth2/userInfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status == 200
    # Replayed and garbage tokens are refused and logged without their value.
    r = request("POST", f"{url}/{pool_id}/oauth2/token",
                urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}),
                {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
    assert r.status == 400

    # Control characters in a username and a user agent.
    injected = f"eve\r\n{FORGED} level=ERROR\n{ANSI}"
    with pytest.raises(botocore.exceptions.ClientError):
        public.sign_up(ClientId=client_id, Username=injected, Password=signup_pw, SecretHash=sh(injected),
                       UserAttributes=[{"Name": "email", "Value": "eve@example.com"}])
    with pytest.raises(botocore.exceptions.ClientError):
        public.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": injected, "PASSWORD": wrong_pw, "SECRET_HASH": sh(injected)})
    browser = Browser()
    q = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                                "scope": "openid", "state": "s"})
    page = browser.go("GET", urllib.parse.urljoin(url, browser.go("GET", f"{url}/{pool_id}/oauth2/authorize?{q}").location()))
    action = urllib.parse.urljoin(url, attr_after(page.text, "<form", "action"))
    csrf = attr_after(page.text, 'name="csrf_token"', "value")
    cookie = "; ".join(f"{k}={v}" for k, v in browser.jar.items())
    secrets.update(v for v in browser.jar.values() if len(v) >= 8)
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": injected, "password": wrong_pw})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    r = request("POST", action, form, dict(headers, **{"User-Agent": "se04-agent \u00e9 \\x1b[31m"}))
    assert r.status == 401, (r.status, r.text[:200])
    # A raw escape (or CR/LF) in a header never reaches the application: HTTP parsing
    # refuses the request.
    r = request("POST", action, form, dict(headers, **{"User-Agent": f"se04-agent {ANSI}"}))
    assert r.status == 400, r.status

    idp.admin_delete_user(UserPoolId=pool_id, Username="alice")

    log = log_path.read_bytes().decode("utf-8", "replace")
    assert "trace" in log.lower() or "TRACE" in log, "the server did not log at trace level"
    leaked = sorted(s for s in secrets if s and s in log)
    assert not leaked, f"secrets in the log: {[s[:12] + '…' for s in leaked]}"
    # The secret's hash-derived forms: SecretHash values and HTML-escaped variants.
    for s in list(secrets):
        assert html.escape(s) not in log and urllib.parse.quote(s, safe="") not in log
    for header in ("Authorization:", "Cookie:", "X-Amz-Signature", "Basic ", "Bearer ey"):
        assert header.lower() not in log.lower(), f"{header!r} in the log"
    # A header map dumped as Debug shows `"authorization": …` or `"cookie": …`.
    assert not re.search(r'"(authorization|cookie|set-cookie)"\s*:', log, re.I), "a header map in the log"
    # Control characters: no forged line starts, no raw injected escape sequence.
    assert not any(line.startswith(FORGED) for line in log.splitlines()), "a forged log line"
    assert ANSI not in log, "a raw ANSI sequence from a request reached the log"
    assert f"\n{FORGED}" not in log

    # The auth events the workload recorded hold none of it either.
    events = subprocess.run([str(BINARY), "events", "--limit", "10000"], env=env, capture_output=True,
                            text=True, check=True).stdout
    kinds = {json.loads(line)["kind"] for line in events.splitlines()}
    assert {"sign_in", "sign_up", "confirm_sign_up", "token_issued", "password_change", "forgot_password",
            "password_reset", "admin_change"} <= kinds, kinds
    leaked = sorted(s for s in secrets if s and s in events)
    assert not leaked, f"secrets in the events: {[s[:12] + '…' for s in leaked]}"

    if env["COGNATE_LOG_FORMAT"] == "json":
        lines = [json.loads(line) for line in log.splitlines() if line.strip()]
        # The id the server echoed for a request is on that request's log lines.
        r = request("GET", f"{url}/health", headers={"x-request-id": "se04-request-1"})
        assert r.headers.get("x-request-id") == "se04-request-1"
        spans = [line.get("span", {}) for line in lines]
        assert any(s.get("request_id") for s in spans), "no JSON log line carries a request id"
