"""`/metrics` (issue 20 item 2) read with the Prometheus project's own Python parser
(`prometheus_client.parser`) after a mixed workload through boto3 and pycognito, on a
server of its own so every count is exact; `--metrics-token` and `--metrics-listen`
through the real binary."""
import random
import string
import urllib.error
import urllib.request

import botocore
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pycognito.aws_srp import AWSSRP

from conftest import PASSWORD, _free_port, create_user, make_client, new_server_env, run_server

TOKEN = "scrape-token-" + "".join(random.choices(string.ascii_letters, k=16))
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture(scope="module")
def metrics_server():
    """A server whose `/metrics` wants TOKEN, with Lambda triggers sent to a closed port."""
    env = new_server_env(COGNATE_METRICS_TOKEN=TOKEN, COGNATE_LAMBDA_ENDPOINT="http://127.0.0.1:9")
    yield from run_server(env)


def get(url, token=None):
    """(status, body) of a GET, with a bearer token when given."""
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(url):
    """{(name, frozenset(labels)): value} of every sample at `url`/metrics."""
    status, text = get(f"{url}/metrics", TOKEN)
    assert status == 200, text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_mixed_workload_shows_in_every_metric_family(metrics_server):
    url = metrics_server
    idp = make_client(url)
    unsigned = make_client(url, signature_version=botocore.UNSIGNED)
    pool_id = idp.create_user_pool(PoolName="metrics")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    pool = {"id": pool_id, "client_id": client_id}
    create_user(idp, pool, "alice", email="alice@example.com", email_verified="true")

    # Password, SRP and refresh sign-ins.
    auth = unsigned.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    AWSSRP(username="alice", password=PASSWORD, pool_id=pool_id, client_id=client_id, client=unsigned).authenticate_user()
    unsigned.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": auth["RefreshToken"]},
    )
    # Wrong passwords until the throttle refuses.
    for _ in range(7):
        refused = (unsigned.exceptions.NotAuthorizedException, unsigned.exceptions.TooManyRequestsException)
        with pytest.raises(refused):
            unsigned.initiate_auth(
                ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "mallory", "PASSWORD": "Wrong-pass-1"},
            )
    # A reset code by mail (to the outbox).
    unsigned.forgot_password(ClientId=client_id, Username="alice")
    # A pre token generation trigger at a closed port stops the next sign-in.
    idp.update_user_pool(UserPoolId=pool_id, LambdaConfig={"PreTokenGeneration": ARN + "pre-token"})
    with pytest.raises(botocore.exceptions.ClientError):
        unsigned.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )

    s = scrape(url)

    # Requests by route template and status; the API is one route.
    assert value(s, "cognate_http_requests_total", route="/", status="200") >= 6
    assert value(s, "cognate_http_requests_total", route="/", status="400") >= 7
    count = value(s, "cognate_http_request_duration_seconds_count", route="/")
    assert count >= 13
    assert value(s, "cognate_http_request_duration_seconds_bucket", route="/", le="+Inf") == count
    assert value(s, "cognate_http_request_duration_seconds_sum", route="/") > 0
    # Sign-ins by flow and outcome.
    assert value(s, "cognate_sign_ins_total", flow="password", outcome="success") == 2
    assert value(s, "cognate_sign_ins_total", flow="srp", outcome="success") == 1
    assert value(s, "cognate_sign_ins_total", flow="refresh", outcome="success") == 1
    assert value(s, "cognate_sign_ins_total", flow="password", outcome="failure") >= 5
    assert value(s, "cognate_sign_ins_total", flow="password", outcome="throttled") >= 1
    # Tokens by grant (the trigger stopped the last sign-in's), refresh reuse, throttles.
    assert value(s, "cognate_tokens_issued_total", grant="api") == 2
    assert value(s, "cognate_tokens_issued_total", grant="refresh_token") == 1
    assert ("cognate_tokens_issued_total", frozenset({("grant", "authorization_code")})) in s
    assert ("cognate_refresh_token_reuse_total", frozenset()) in s
    assert value(s, "cognate_throttled_total", throttle="sign_in") >= 1
    # Mail.
    assert value(s, "cognate_mail_messages_total", kind="reset", outcome="sent") == 1
    # The trigger call, its outcome and its time.
    trigger = "TokenGeneration_Authentication"
    assert value(s, "cognate_trigger_invocations_total", trigger=trigger, outcome="unreachable") == 1
    assert value(s, "cognate_trigger_duration_seconds_count", trigger=trigger) == 1
    # The database pool and the argon2 queue.
    backend = "postgres" if "COGNATE_TEST_POSTGRES_URL" in __import__("os").environ else "sqlite"
    size = value(s, "cognate_db_pool_connections", backend=backend)
    assert 1 <= size <= value(s, "cognate_db_pool_max_connections", backend=backend)
    assert value(s, "cognate_db_pool_idle_connections", backend=backend) <= size
    assert value(s, "cognate_db_pool_acquire_seconds_count", backend=backend) >= 1
    slots = value(s, "cognate_password_hash_slots")
    assert slots >= 1 and value(s, "cognate_password_hash_slots_in_use") <= slots
    assert ("cognate_password_hash_waiting", frozenset()) in s
    # Every auth event of the workload reached its queue.
    assert value(s, "cognate_auth_events_dropped_total") == 0
    # No label names a user, pool or client.
    for (_, labels) in s:
        for _, v in labels:
            assert pool_id not in v and client_id not in v and "alice" not in v and "mallory" not in v


def test_random_paths_add_no_series(metrics_server):
    url = metrics_server
    before = {dict(l).get("route") for (n, l) in scrape(url) if n == "cognate_http_requests_total"}
    junk = ["".join(random.choices(string.ascii_lowercase, k=12)) for _ in range(30)]
    for j in junk:
        get(f"{url}/{j}")
        get(f"{url}/{j}/oauth2/token")
        get(f"{url}/{j}/{j}/{j}")
    after = {dict(l).get("route") for (n, l) in scrape(url) if n == "cognate_http_requests_total"}
    assert len(after) <= len(before) + 3, (before, after)
    assert not any(j in r for j in junk for r in after)


def test_metrics_refuses_a_scrape_without_the_token(metrics_server):
    for token in (None, "", TOKEN + "x", TOKEN[:-1]):
        status, body = get(f"{metrics_server}/metrics", token)
        assert status == 401 and "cognate_" not in body


def test_a_separate_metrics_listener_serves_metrics_alone():
    port = _free_port()
    env = new_server_env(COGNATE_METRICS_LISTEN=f"127.0.0.1:{port}")
    for url in run_server(env):
        status, body = get(f"{url}/metrics")
        assert status == 404 and "cognate_" not in body
        status, body = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        names = {f.name for f in text_string_to_metric_families(body)}
        assert "cognate_sign_ins" in names
        status, _ = get(f"http://127.0.0.1:{port}/health")
        assert status == 404
