"""Triggers (issue 16): LambdaConfig through boto3, Lambda code served by the Python
runner (tools/lambda_runner/lambda_runner.py), a signed webhook, and Cognito's three
failure exceptions."""
import base64
import hashlib
import hmac
import json
import pathlib
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore
import pytest

from conftest import (BINARY, PASSWORD, ROOT, claims, cognate_cli, lambda_runner, make_client, new_server_env,
                      outbox_code, run_server)

HANDLERS = pathlib.Path(__file__).with_name("trigger_handlers.py")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture(scope="module")
def events_dir():
    return pathlib.Path(tempfile.mkdtemp(prefix="cognate-trigger-events-"))


@pytest.fixture(scope="module")
def runner(events_dir):
    names = ["pre_sign_up", "slow", "malformed", "giant", "wrong_types", "post_confirmation", "pre_token",
             "pre_token_reserved", "pre_token_machine"]
    yield from lambda_runner(HANDLERS, names, events_dir)


@pytest.fixture(scope="module")
def trig(runner):
    # The development flag lets the webhook tests reach receivers on loopback.
    env = new_server_env(COGNATE_LAMBDA_ENDPOINT=runner, COGNATE_TRIGGER_ALLOW_PRIVATE="1")
    for url in run_server(env):
        yield url, env


@pytest.fixture
def tidp(trig):
    return make_client(trig[0])


@pytest.fixture
def tunsigned(trig):
    return make_client(trig[0], signature_version=botocore.UNSIGNED)


def new_pool(idp, lambda_config):
    pool_id = idp.create_user_pool(
        PoolName=f"trig-{uuid.uuid4().hex[:6]}",
        LambdaConfig=lambda_config,
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def test_lambda_config_is_read_back_exactly(tidp):
    config = {
        "PreSignUp": ARN + "pre-sign-up",
        "CustomMessage": ARN + "custom-message",
        "PostConfirmation": "https://hooks.example.com/post-confirmation",
        "PreAuthentication": ARN + "pre-auth",
        "PostAuthentication": ARN + "post-auth",
        "DefineAuthChallenge": ARN + "define",
        "CreateAuthChallenge": ARN + "create",
        "VerifyAuthChallengeResponse": ARN + "verify",
        "PreTokenGeneration": ARN + "pre-token",
        "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": ARN + "pre-token"},
        "UserMigration": ARN + "migrate:live",
    }
    pool_id, _ = new_pool(tidp, config)
    assert tidp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"] == config
    listed = [p for p in tidp.list_user_pools(MaxResults=60)["UserPools"] if p["Id"] == pool_id]
    assert listed[0]["LambdaConfig"] == config
    tidp.update_user_pool(UserPoolId=pool_id, LambdaConfig={"PreSignUp": ARN + "other"})
    assert tidp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"] == {"PreSignUp": ARN + "other"}


@pytest.mark.parametrize("config, word", [
    ({"CustomEmailSender": {"LambdaVersion": "V1_0", "LambdaArn": ARN + "x"}}, "CustomEmailSender"),
    ({"KMSKeyID": "arn:aws:kms:us-east-1:123456789012:key/x"}, "KMSKeyID"),
    ({"PreSignUp": "http://hooks.example.com/x"}, "https"),
    ({"PreSignUp": "arn:aws:s3:::some-bucket-name"}, "PreSignUp"),
    ({"PreTokenGenerationConfig": {"LambdaVersion": "V9_0", "LambdaArn": ARN + "x"}}, "LambdaVersion"),
])
def test_unsupported_or_invalid_triggers_are_refused(tidp, config, word):
    with pytest.raises(tidp.exceptions.InvalidParameterException) as e:
        tidp.create_user_pool(PoolName="bad", LambdaConfig=config)
    assert word in str(e.value)


def test_pre_sign_up_sees_cognitos_event_and_can_confirm_the_user(tidp, tunsigned, events_dir):
    pool_id, client_id = new_pool(tidp, {"PreSignUp": ARN + "pre-sign-up"})
    out = tunsigned.sign_up(ClientId=client_id, Username="ann", Password=PASSWORD,
                            UserAttributes=[{"Name": "email", "Value": "ann@auto.example"}])
    assert out["UserConfirmed"] is True
    user = tidp.admin_get_user(UserPoolId=pool_id, Username="ann")
    assert user["UserStatus"] == "CONFIRMED"
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email_verified"] == "true"
    event = json.loads((events_dir / "PreSignUp_SignUp.json").read_text())
    assert event["version"] == "1"
    assert event["region"] == "us-east-1"
    assert event["userPoolId"] == pool_id
    assert event["userName"] == "ann"
    assert event["callerContext"]["clientId"] == client_id
    assert "awsSdkVersion" in event["callerContext"]
    assert event["request"]["userAttributes"] == {"email": "ann@auto.example"}
    assert event["response"] == {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
    # Without the trigger's word the user is unconfirmed, as usual.
    out = tunsigned.sign_up(ClientId=client_id, Username="bob", Password=PASSWORD,
                            UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    assert out["UserConfirmed"] is False


def test_a_refusing_handler_gives_its_message_and_creates_nothing(tidp, tunsigned):
    pool_id, client_id = new_pool(tidp, {"PreSignUp": ARN + "pre-sign-up"})
    with pytest.raises(tunsigned.exceptions.UserLambdaValidationException) as e:
        tunsigned.sign_up(ClientId=client_id, Username="eve", Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": "eve@blocked.example"}])
    assert "Sign-ups from blocked.example are not allowed" in str(e.value)
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username="eve")


# Matrix: WH-02
@pytest.mark.parametrize("function, exception", [
    ("slow", "UnexpectedLambdaException"),
    ("malformed", "InvalidLambdaResponseException"),
    ("giant", "InvalidLambdaResponseException"),
    ("wrong-types", "InvalidLambdaResponseException"),
    ("no-such-function", "UnexpectedLambdaException"),
    ("tls-to-plain-http", "UnexpectedLambdaException"),
])
def test_failing_handlers_give_cognitos_exceptions_and_create_nothing(tidp, tunsigned, runner, function, exception):
    # A webhook whose TLS handshake fails: https to the runner, which speaks plain HTTP.
    target = runner.replace("http://", "https://") + "/hook" if function == "tls-to-plain-http" else ARN + function
    pool_id, client_id = new_pool(tidp, {"PreSignUp": target})
    started = time.time()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        tunsigned.sign_up(ClientId=client_id, Username="zed", Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": "zed@example.com"}])
    assert e.value.response["Error"]["Code"] == exception
    assert time.time() - started < 7, "the 5-second limit applies"
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username="zed")


def test_post_confirmation_fires_when_a_sign_up_is_confirmed(trig, tidp, tunsigned, events_dir):
    pool_id, client_id = new_pool(tidp, {"PostConfirmation": ARN + "post-confirmation"})
    email = f"pc-{uuid.uuid4().hex[:6]}@example.com"
    tunsigned.sign_up(ClientId=client_id, Username="carl", Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}])
    tunsigned.confirm_sign_up(ClientId=client_id, Username="carl",
                              ConfirmationCode=outbox_code(email, env=trig[1]))
    event = json.loads((events_dir / "PostConfirmation_ConfirmSignUp.json").read_text())
    assert event["userName"] == "carl"
    assert event["callerContext"]["clientId"] == client_id
    attrs = event["request"]["userAttributes"]
    assert attrs["email"] == email and attrs["cognito:user_status"] == "CONFIRMED" and attrs["sub"]


def test_admin_create_user_raises_pre_sign_up_with_its_validation_data(tidp, events_dir):
    pool_id, _ = new_pool(tidp, {"PreSignUp": ARN + "pre-sign-up"})
    tidp.admin_create_user(UserPoolId=pool_id, Username="ivy", MessageAction="SUPPRESS",
                           UserAttributes=[{"Name": "email", "Value": "ivy@auto.example"}],
                           ValidationData=[{"Name": "invite", "Value": "X-1"}],
                           ClientMetadata={"source": "admin"})
    event = json.loads((events_dir / "PreSignUp_AdminCreateUser.json").read_text())
    assert event["userName"] == "ivy"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    assert event["request"]["validationData"] == {"invite": "X-1"}
    assert event["request"]["clientMetadata"] == {"source": "admin"}
    user = tidp.admin_get_user(UserPoolId=pool_id, Username="ivy")
    # An invitation stays FORCE_CHANGE_PASSWORD; the trigger's autoVerifyEmail applies.
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email_verified"] == "true"
    with pytest.raises(tidp.exceptions.UserLambdaValidationException) as e:
        tidp.admin_create_user(UserPoolId=pool_id, Username="mal", MessageAction="SUPPRESS",
                               UserAttributes=[{"Name": "email", "Value": "mal@blocked.example"}])
    assert "PreSignUp failed with error Sign-ups from blocked.example are not allowed." in str(e.value)
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username="mal")


def test_admin_confirm_sign_up_raises_post_confirmation(tidp, tunsigned, events_dir):
    pool_id, client_id = new_pool(tidp, {"PostConfirmation": ARN + "post-confirmation"})
    tunsigned.sign_up(ClientId=client_id, Username="abe", Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": "abe@example.com"}])
    tidp.admin_confirm_sign_up(UserPoolId=pool_id, Username="abe", ClientMetadata={"by": "support"})
    event = json.loads((events_dir / "PostConfirmation_ConfirmSignUp.json").read_text())
    assert event["userName"] == "abe"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    assert event["request"]["clientMetadata"] == {"by": "support"}
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"


def test_every_password_reset_raises_post_confirmation_confirm_forgot_password(trig, tidp, tunsigned, events_dir):
    # Cognito users trip over this: post confirmation fires at every reset, not only
    # at sign-up; a handler that means "new user" checks triggerSource.
    pool_id, client_id = new_pool(tidp, {"PostConfirmation": ARN + "post-confirmation"})
    email = f"fp-{uuid.uuid4().hex[:6]}@example.com"
    tidp.admin_create_user(UserPoolId=pool_id, Username="fay", MessageAction="SUPPRESS",
                           UserAttributes=[{"Name": "email", "Value": email},
                                           {"Name": "email_verified", "Value": "true"}])
    tidp.admin_set_user_password(UserPoolId=pool_id, Username="fay", Password=PASSWORD, Permanent=True)
    (events_dir / "PostConfirmation_ConfirmForgotPassword.json").unlink(missing_ok=True)
    tunsigned.forgot_password(ClientId=client_id, Username="fay")
    tunsigned.confirm_forgot_password(ClientId=client_id, Username="fay", Password=PASSWORD + "x",
                                      ConfirmationCode=outbox_code(email, env=trig[1]),
                                      ClientMetadata={"app": "web"})
    event = json.loads((events_dir / "PostConfirmation_ConfirmForgotPassword.json").read_text())
    assert event["userName"] == "fay"
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["clientMetadata"] == {"app": "web"}
    assert event["request"]["userAttributes"]["email"] == email


def test_pre_token_generation_changes_tokens_at_sign_in_and_refresh(tidp, tunsigned, events_dir):
    pool_id, client_id = new_pool(tidp, {"PreTokenGeneration": ARN + "pre-token"})
    tidp.admin_create_user(UserPoolId=pool_id, Username="dan", MessageAction="SUPPRESS",
                           UserAttributes=[{"Name": "email", "Value": "dan@example.com"},
                                           {"Name": "custom:team", "Value": "red"}])
    tidp.admin_set_user_password(UserPoolId=pool_id, Username="dan", Password=PASSWORD, Permanent=True)
    tidp.create_group(UserPoolId=pool_id, GroupName="real")
    tidp.admin_add_user_to_group(UserPoolId=pool_id, Username="dan", GroupName="real")
    auth = tunsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "dan", "PASSWORD": PASSWORD})["AuthenticationResult"]
    id_claims = claims(auth["IdToken"])
    assert id_claims["tenant"] == "acme"
    assert id_claims["email"] == "hidden@example.com"
    assert "custom:team" not in id_claims
    assert id_claims["cognito:groups"] == ["from-trigger"]
    event = json.loads((events_dir / "TokenGeneration_Authentication.json").read_text())
    assert event["request"]["groupConfiguration"]["groupsToOverride"] == ["real"]
    assert event["response"] == {"claimsOverrideDetails": None}
    refreshed = tunsigned.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters={"REFRESH_TOKEN": auth["RefreshToken"]})["AuthenticationResult"]
    assert claims(refreshed["IdToken"])["tenant"] == "acme"
    assert (events_dir / "TokenGeneration_RefreshTokens.json").exists()


@pytest.mark.parametrize("version, fired", [("V3_0", True), ("V2_0", False)])
def test_client_credentials_raise_pre_token_generation_only_at_v3(trig, tidp, events_dir, version, fired):
    api = "https://api.example.com"
    pool_id = tidp.create_user_pool(PoolName="m2m", LambdaConfig={
        "PreTokenGeneration": ARN + "pre-token-machine",
        "PreTokenGenerationConfig": {"LambdaVersion": version, "LambdaArn": ARN + "pre-token-machine"},
    })["UserPool"]["Id"]
    tidp.create_resource_server(UserPoolId=pool_id, Identifier=api, Name="api",
                                Scopes=[{"ScopeName": "read", "ScopeDescription": "r"},
                                        {"ScopeName": "write", "ScopeDescription": "w"}])
    client = tidp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="m2m", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=[f"{api}/read", f"{api}/write"],
    )["UserPoolClient"]
    (events_dir / "TokenGeneration_ClientCredentials.json").unlink(missing_ok=True)
    basic = base64.b64encode(f"{client['ClientId']}:{client['ClientSecret']}".encode()).decode()
    req = urllib.request.Request(f"{trig[0]}/{pool_id}/oauth2/token", data=b"grant_type=client_credentials",
                                 headers={"content-type": "application/x-www-form-urlencoded",
                                          "authorization": f"Basic {basic}"})
    with urllib.request.urlopen(req) as res:
        access = claims(json.load(res)["access_token"])
    recorded = events_dir / "TokenGeneration_ClientCredentials.json"
    if fired:
        assert access["tenant"] == "machines"
        assert access["scope"] == f"{api}/read"
        event = json.loads(recorded.read_text())
        assert event["version"] == "3"
        assert event["userName"] == client["ClientId"]
        assert event["callerContext"]["clientId"] == client["ClientId"]
        assert event["request"]["scopes"] == [f"{api}/read", f"{api}/write"]
        assert event["request"]["userAttributes"] == {}
    else:
        assert "tenant" not in access
        assert access["scope"] == f"{api}/read {api}/write"
        assert not recorded.exists()


# Matrix: WH-02
def test_a_pre_token_handler_cannot_change_sub(tidp, tunsigned):
    pool_id, client_id = new_pool(tidp, {"PreTokenGeneration": ARN + "pre-token-reserved"})
    tidp.admin_create_user(UserPoolId=pool_id, Username="fay", MessageAction="SUPPRESS",
                           UserAttributes=[{"Name": "email", "Value": "fay@example.com"}])
    tidp.admin_set_user_password(UserPoolId=pool_id, Username="fay", Password=PASSWORD, Permanent=True)
    with pytest.raises(tunsigned.exceptions.InvalidLambdaResponseException):
        tunsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": "fay", "PASSWORD": PASSWORD})


def standard_webhooks_verify(secret, headers, body):
    """Standard Webhooks 1.0 verification, as its reference libraries do it: the key is
    the base64 after `whsec_`; the signature, any `v1,` entry of `webhook-signature`,
    is base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`; a timestamp
    more than 5 minutes off is refused."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()).decode()
    sent = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ") if s.startswith("v1,")]
    return (any(hmac.compare_digest(expected, s) for s in sent)
            and abs(time.time() - int(timestamp)) < 300)


class Receiver(BaseHTTPRequestHandler):
    """A webhook that verifies cognate's signature, then refuses or confirms."""
    secret = None
    seen = []
    ids = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        ok = standard_webhooks_verify(Receiver.secret, self.headers, body)
        Receiver.ids.append(self.headers["webhook-id"])
        Receiver.seen.append(ok)
        event = json.loads(body)
        if not ok:
            status, out = 401, {"message": "bad signature"}
        elif event["request"]["userAttributes"]["email"].endswith("@blocked.example"):
            status, out = 403, {"message": "blocked by webhook"}
        else:
            event["response"]["autoConfirmUser"] = True
            status, out = 200, event
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# Matrix: WH-01
def test_a_signed_webhook_is_verified_and_its_answer_applied(trig, tidp, tunsigned):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        pool_id, client_id = new_pool(tidp, {"PreSignUp": hook})
        Receiver.secret = cognate_cli("pool", "trigger-secret", "--pool", pool_id, env=trig[1])["secret"]
        out = tunsigned.sign_up(ClientId=client_id, Username="gus", Password=PASSWORD,
                                UserAttributes=[{"Name": "email", "Value": "gus@example.com"}])
        assert out["UserConfirmed"] is True
        with pytest.raises(tunsigned.exceptions.UserLambdaValidationException) as e:
            tunsigned.sign_up(ClientId=client_id, Username="hal", Password=PASSWORD,
                              UserAttributes=[{"Name": "email", "Value": "hal@blocked.example"}])
        assert "blocked by webhook" in str(e.value)
        assert Receiver.seen == [True, True]
        # A wrong secret fails the signature: the webhook's refusal.
        assert Receiver.secret.startswith("whsec_")
        Receiver.secret = "whsec_" + base64.b64encode(b"not-the-secret-not-the-secret!!!").decode()
        with pytest.raises(tunsigned.exceptions.UserLambdaValidationException):
            tunsigned.sign_up(ClientId=client_id, Username="ivy", Password=PASSWORD,
                              UserAttributes=[{"Name": "email", "Value": "ivy@example.com"}])
        log = cognate_cli("triggers", "log", "--pool", pool_id, "--limit", "10", env=trig[1])
        assert [e["outcome"] for e in log] == ["refused", "refused", "ok"]
        assert all(e["trigger_source"] == "PreSignUp_SignUp" and e["target"] == hook for e in log)
        assert PASSWORD not in json.dumps(log)
        # Every delivery has its own id.
        assert len(Receiver.ids) == 3 and len(set(Receiver.ids)) == 3
    finally:
        server.shutdown()


def test_invocations_are_counted_in_metrics(trig, tidp, tunsigned):
    import urllib.request
    pool_id, client_id = new_pool(tidp, {"PreSignUp": ARN + "pre-sign-up"})
    tunsigned.sign_up(ClientId=client_id, Username="jay", Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": "jay@auto.example"}])
    text = urllib.request.urlopen(f"{trig[0]}/metrics").read().decode()
    assert 'cognate_trigger_invocations_total{trigger="PreSignUp_SignUp",outcome="ok"}' in text


def test_node_handlers_run_unchanged_through_the_node_runner(tmp_path):
    import shutil
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    proc = subprocess.Popen(
        ["node", str(ROOT / "tools" / "lambda_runner" / "lambda_runner.js"), "--port", "0",
         f"pre-sign-up={HANDLERS.with_suffix('.js')}:handler"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        port = int(proc.stdout.readline().split()[-1])
        env = new_server_env(COGNATE_LAMBDA_ENDPOINT=f"http://127.0.0.1:{port}")
        for url in run_server(env):
            idp, unsigned = make_client(url), make_client(url, signature_version=botocore.UNSIGNED)
            pool_id, client_id = new_pool(idp, {"PreSignUp": ARN + "pre-sign-up"})
            out = unsigned.sign_up(ClientId=client_id, Username="kim", Password=PASSWORD,
                                   UserAttributes=[{"Name": "email", "Value": "kim@example.com"}])
            assert out["UserConfirmed"] is True
            with pytest.raises(unsigned.exceptions.UserLambdaValidationException) as e:
                unsigned.sign_up(ClientId=client_id, Username="lee", Password=PASSWORD,
                                 UserAttributes=[{"Name": "email", "Value": "lee@blocked.example"}])
            assert "Blocked by the Node handler" in str(e.value)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_cli_sets_triggers_and_reads_the_log_by_source(trig, tidp, tunsigned):
    pool_id, client_id = new_pool(tidp, {})
    env = trig[1]
    cognate_cli("pool", "update", "--pool", pool_id, "--trigger", f"PreSignUp={ARN}pre-sign-up", env=env)
    assert tidp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"] == {"PreSignUp": ARN + "pre-sign-up"}
    bad = subprocess.run([str(BINARY), "pool", "update", "--pool", pool_id, "--trigger", "PreSignIn=x"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "not a trigger" in bad.stderr
    tunsigned.sign_up(ClientId=client_id, Username="max", Password="Secret-Pw-77x",
                      UserAttributes=[{"Name": "email", "Value": "max@example.com"}])
    log = cognate_cli("triggers", "log", "--pool", pool_id, "--source", "PreSignUp_SignUp", env=env)
    assert len(log) == 1 and log[0]["outcome"] == "ok" and log[0]["user_name"] == "max"
    assert log[0]["client_id"] == client_id and log[0]["duration_ms"] >= 0
    assert json.loads(log[0]["request"])["request"]["userAttributes"]["email"] == "max@example.com"
    assert "Secret-Pw-77x" not in json.dumps(log)
    assert cognate_cli("triggers", "log", "--pool", pool_id, "--source", "PostConfirmation_ConfirmSignUp", env=env) == []
    cognate_cli("pool", "update", "--pool", pool_id, "--trigger", "PreSignUp=", env=env)
    assert tidp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"] == {}


AWS_KEY_ID, AWS_SECRET, AWS_TOKEN = "AKIDLAMBDATEST", "lambda/secret/key", "session-token-1"


def botocore_signature(method, url, headers, body, region):
    """The signature botocore (the AWS SDK for Python) gives the same request: the
    headers cognate signed, at its X-Amz-Date, with the same credentials."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(method=method, url=url, data=body,
                         headers={h: headers[h] for h in signed if h != "x-amz-security-token"})
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials(AWS_KEY_ID, AWS_SECRET, AWS_TOKEN), "lambda", region)
    auth._modify_request_before_signing(request)
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)


class FakeLambda(BaseHTTPRequestHandler):
    """The Lambda Invoke API as AWS serves it: refuses a request botocore would not have
    signed the same way, else runs a pre token handler."""
    checks = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        url = f"http://{self.headers['Host']}{self.path}"
        sent = self.headers["Authorization"].rsplit("Signature=", 1)[1]
        ok = (hmac.compare_digest(sent, botocore_signature("POST", url, self.headers, body, "eu-west-1"))
              and f"/eu-west-1/lambda/aws4_request" in self.headers["Authorization"]
              and self.headers["X-Amz-Security-Token"] == AWS_TOKEN)
        FakeLambda.checks.append((self.path, ok))
        if not ok:
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b'{"message":"The request signature we calculated does not match"}')
            return
        event = json.loads(body)
        event["response"]["claimsOverrideDetails"] = {"claimsToAddOrOverride": {"signed": "yes"}}
        out = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.mark.parametrize("secret, claim", [(AWS_SECRET, "yes"), ("not-the-secret", None)])
def test_lambda_invocations_are_sigv4_signed_as_botocore_signs_them(secret, claim):
    # Arrange: AWS credentials in the standard variables, the Invoke API on loopback.
    FakeLambda.checks = []
    lam = ThreadingHTTPServer(("127.0.0.1", 0), FakeLambda)
    threading.Thread(target=lam.serve_forever, daemon=True).start()
    env = new_server_env(COGNATE_LAMBDA_ENDPOINT=f"http://127.0.0.1:{lam.server_port}",
                         AWS_ACCESS_KEY_ID=AWS_KEY_ID, AWS_SECRET_ACCESS_KEY=secret,
                         AWS_SESSION_TOKEN=AWS_TOKEN)
    try:
        for url in run_server(env):
            idp, unsigned = make_client(url), make_client(url, signature_version=botocore.UNSIGNED)
            arn = "arn:aws:lambda:eu-west-1:123456789012:function:claims:live"
            pool_id, client_id = new_pool(idp, {"PreTokenGeneration": arn})
            idp.admin_create_user(UserPoolId=pool_id, Username="sig", MessageAction="SUPPRESS")
            idp.admin_set_user_password(UserPoolId=pool_id, Username="sig", Password=PASSWORD, Permanent=True)
            # Act
            call = lambda: unsigned.initiate_auth(  # noqa: E731
                ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "sig", "PASSWORD": PASSWORD})
            # Assert: signed right, the function runs; signed wrong, the Invoke API
            # refuses it, which Cognito reports as UnexpectedLambdaException.
            if claim:
                assert claims(call()["AuthenticationResult"]["IdToken"])["signed"] == claim
            else:
                with pytest.raises(unsigned.exceptions.UnexpectedLambdaException):
                    call()
            assert FakeLambda.checks == [("/2015-03-31/functions/claims/invocations?Qualifier=live", bool(claim))]
    finally:
        lam.shutdown()
