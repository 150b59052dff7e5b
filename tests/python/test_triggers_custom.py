"""Custom message triggers (issue 16): Cognito's CustomMessage_* events raised before a code
or temporary password is mailed, the handler's subject and message delivered over real
SMTP (tests/smtp_sink.py), and ClientMetadata / ValidationData reaching the triggers.
Handlers are Lambda code (trigger_handlers_custom.py) served by the Python runner."""
import base64
import hashlib
import html
import http.cookiejar
import json
import os
import pathlib
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import botocore
import pytest

from conftest import PASSWORD, ROOT, claims, cognate_cli, lambda_runner, make_client, new_server_env, run_server

SINK = ROOT / "tests" / "smtp_sink.py"
HANDLERS = pathlib.Path(__file__).with_name("trigger_handlers_custom.py")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
CALLBACK = "https://app.example.com/callback"
NEW_PASSWORD = "Brand-new-pass-7"


@pytest.fixture(scope="module")
def events_dir():
    return pathlib.Path(tempfile.mkdtemp(prefix="cognate-custom-events-"))


@pytest.fixture(scope="module")
def runner(events_dir):
    yield from lambda_runner(HANDLERS, ["custom_message", "pre_sign_up", "custom_message_bad_type"], events_dir)


class Sink:
    """tests/smtp_sink.py as a subprocess: every message it receives, as parsed JSON."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(SINK)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.messages = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.messages.put(json.loads(line))

    def mail_to(self, address, timeout=10):
        """The next message to `address` not returned before."""
        deadline = time.time() + timeout
        while True:
            for m in self.seen:
                if address in m["rcpt_tos"] and not m.get("taken"):
                    m["taken"] = True
                    return m
            try:
                self.seen.append(self.messages.get(timeout=max(0.05, deadline - time.time())))
            except queue.Empty:
                raise AssertionError(f"no mail to {address}")

    def nothing_to(self, address, wait=1.0):
        """True when no message to `address` arrives within `wait` seconds."""
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                self.seen.append(self.messages.get(timeout=0.1))
            except queue.Empty:
                pass
        return not any(address in m["rcpt_tos"] and not m.get("taken") for m in self.seen)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def trig(runner, sink):
    env = new_server_env(COGNATE_LAMBDA_ENDPOINT=runner, COGNATE_SMTP_HOST="127.0.0.1",
                         COGNATE_SMTP_PORT=str(sink.port), COGNATE_SMTP_TLS="none")
    for url in run_server(env):
        yield url, env


@pytest.fixture
def tidp(trig):
    return make_client(trig[0])


@pytest.fixture
def tunsigned(trig):
    return make_client(trig[0], signature_version=botocore.UNSIGNED)


def new_pool(idp, lambda_config, **extra):
    pool_id = idp.create_user_pool(PoolName=f"cm-{uuid.uuid4().hex[:6]}", LambdaConfig=lambda_config,
                                   **extra)["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        CallbackURLs=[CALLBACK], AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"],
        AllowedOAuthFlowsUserPoolClient=True, SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def event_of(events_dir, source, username):
    return json.loads((events_dir / f"{source}-{username}.json").read_text())


def code_in(mail):
    return re.search(r"code: (\d{6})", mail["text"]).group(1)


def unique(domain="example.com"):
    name = f"u{uuid.uuid4().hex[:8]}"
    return name, f"{name}@{domain}"


def assert_custom_event(event, source, pool_id, username, client_id, metadata):
    """The parts of a custom message event every source shares, exactly as Cognito sends them."""
    assert event["version"] == "1"
    assert event["triggerSource"] == source
    assert event["region"] == "us-east-1"
    assert event["userPoolId"] == pool_id
    assert event["userName"] == username
    assert event["callerContext"]["clientId"] == client_id
    assert "awsSdkVersion" in event["callerContext"]
    request = event["request"]
    assert request["codeParameter"] == "{####}"
    assert request["usernameParameter"] == ("{username}" if source == "CustomMessage_AdminCreateUser" else None)
    assert request["clientMetadata"] == metadata
    assert request["userAttributes"]["sub"]
    assert event["response"] == {"smsMessage": None, "emailMessage": None, "emailSubject": None}


def assert_branded(mail, source, code, team):
    """The handler's subject and message arrived, with the placeholders filled in."""
    assert mail["subject"] == f"Acme: {source}"
    assert f"Acme ({team}) code: {code}" in mail["text"]
    # The handler's HTML arrives as HTML; the text part is it without the tags.
    assert f"<p>Acme ({team}) code: <b>{code}</b></p>" in mail["html"]
    assert "<b>" not in mail["text"]
    assert "{####}" not in mail["text"] and "{####}" not in mail["html"]


def sign_in(tunsigned, client_id, username, password=PASSWORD):
    return tunsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": username, "PASSWORD": password})


def confirmed_user(tidp, pool_id, username, email, verified="true"):
    tidp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                           UserAttributes=[{"Name": "email", "Value": email},
                                           {"Name": "email_verified", "Value": verified}])
    tidp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)


# Firing: SignUp / API -> PreSignUp_SignUp (none configured), CustomMessage_SignUp
def test_sign_up_mails_the_handlers_subject_and_message_over_smtp_and_its_code_confirms(
        trig, tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}], ClientMetadata={"team": "blue"})
    mail = sink.mail_to(email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_SignUp", code, "blue")
    event = event_of(events_dir, "CustomMessage_SignUp", username)
    assert_custom_event(event, "CustomMessage_SignUp", pool_id, username, client_id, {"team": "blue"})
    assert event["request"]["linkParameter"] is None  # the API's sign-up mails no link
    assert event["request"]["userAttributes"]["email"] == email
    assert event["request"]["userAttributes"]["cognito:user_status"] == "UNCONFIRMED"
    # The event held placeholders only: the code never left for the trigger or its log.
    assert code not in json.dumps(event)
    log = cognate_cli("triggers", "log", "--pool", pool_id, env=trig[1])
    assert [e["trigger_source"] for e in log] == ["CustomMessage_SignUp"]
    assert code not in json.dumps(log)
    tunsigned.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=code)
    assert tidp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"] == "CONFIRMED"


# Firing: ResendConfirmationCode / API -> CustomMessage_ResendCode
def test_resend_confirmation_code_raises_resend_code_and_the_new_code_confirms(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}])
    first = code_in(sink.mail_to(email))
    tunsigned.resend_confirmation_code(ClientId=client_id, Username=username, ClientMetadata={"team": "red"})
    mail = sink.mail_to(email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_ResendCode", code, "red")
    event = event_of(events_dir, "CustomMessage_ResendCode", username)
    assert_custom_event(event, "CustomMessage_ResendCode", pool_id, username, client_id, {"team": "red"})
    if first != code:
        with pytest.raises(tunsigned.exceptions.CodeMismatchException):
            tunsigned.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=first)
    tunsigned.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=code)
    assert tidp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"] == "CONFIRMED"


# Firing: ForgotPassword / API -> CustomMessage_ForgotPassword
def test_forgot_password_raises_forgot_password_and_the_code_resets_the_password(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email)
    tunsigned.forgot_password(ClientId=client_id, Username=username, ClientMetadata={"team": "green"})
    mail = sink.mail_to(email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_ForgotPassword", code, "green")
    event = event_of(events_dir, "CustomMessage_ForgotPassword", username)
    assert_custom_event(event, "CustomMessage_ForgotPassword", pool_id, username, client_id, {"team": "green"})
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    tunsigned.confirm_forgot_password(ClientId=client_id, Username=username, ConfirmationCode=code,
                                      Password=NEW_PASSWORD)
    assert "AccessToken" in sign_in(tunsigned, client_id, username, NEW_PASSWORD)["AuthenticationResult"]


# Firing: AdminResetUserPassword / API -> CustomMessage_ForgotPassword
def test_admin_reset_user_password_raises_forgot_password_with_its_client_metadata(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email)
    tidp.admin_reset_user_password(UserPoolId=pool_id, Username=username, ClientMetadata={"team": "ops"})
    mail = sink.mail_to(email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_ForgotPassword", code, "ops")
    event = event_of(events_dir, "CustomMessage_ForgotPassword", username)
    assert_custom_event(event, "CustomMessage_ForgotPassword", pool_id, username, "CLIENT_ID_NOT_APPLICABLE",
                        {"team": "ops"})
    tunsigned.confirm_forgot_password(ClientId=client_id, Username=username, ConfirmationCode=code,
                                      Password=NEW_PASSWORD)
    assert "AccessToken" in sign_in(tunsigned, client_id, username, NEW_PASSWORD)["AuthenticationResult"]


# Firing: UpdateUserAttributes (email) / API -> CustomMessage_UpdateUserAttribute
def test_update_user_attributes_raises_update_user_attribute_and_the_code_verifies_the_new_address(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email)
    token = sign_in(tunsigned, client_id, username)["AuthenticationResult"]["AccessToken"]
    _, new_email = unique()
    tunsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": new_email}],
                                     ClientMetadata={"team": "moves"})
    mail = sink.mail_to(new_email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_UpdateUserAttribute", code, "moves")
    event = event_of(events_dir, "CustomMessage_UpdateUserAttribute", username)
    assert_custom_event(event, "CustomMessage_UpdateUserAttribute", pool_id, username, client_id,
                        {"team": "moves"})
    assert event["request"]["userAttributes"]["email"] == new_email
    assert event["request"]["userAttributes"]["email_verified"] == "false"
    tunsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    attrs = {a["Name"]: a["Value"] for a in tidp.admin_get_user(UserPoolId=pool_id, Username=username)["UserAttributes"]}
    assert attrs["email"] == new_email and attrs["email_verified"] == "true"


# Firing: AdminUpdateUserAttributes (email, held for verification) / API -> CustomMessage_UpdateUserAttribute
def test_admin_update_user_attributes_raises_update_user_attribute_for_a_held_address(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"},
                                  AutoVerifiedAttributes=["email"],
                                  UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email)
    _, held = unique()
    tidp.admin_update_user_attributes(UserPoolId=pool_id, Username=username, ClientMetadata={"team": "admins"},
                                      UserAttributes=[{"Name": "email", "Value": held}])
    mail = sink.mail_to(held)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_UpdateUserAttribute", code, "admins")
    event = event_of(events_dir, "CustomMessage_UpdateUserAttribute", username)
    assert_custom_event(event, "CustomMessage_UpdateUserAttribute", pool_id, username, "CLIENT_ID_NOT_APPLICABLE",
                        {"team": "admins"})
    # The address in force stays the old one until the code proves the new one.
    assert event["request"]["userAttributes"]["email"] == email
    token = sign_in(tunsigned, client_id, username)["AuthenticationResult"]["AccessToken"]
    tunsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    attrs = {a["Name"]: a["Value"] for a in tidp.admin_get_user(UserPoolId=pool_id, Username=username)["UserAttributes"]}
    assert attrs["email"] == held and attrs["email_verified"] == "true"


# Firing: GetUserAttributeVerificationCode / API -> CustomMessage_VerifyUserAttribute
def test_get_user_attribute_verification_code_raises_verify_user_attribute_and_the_code_verifies(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email, verified="false")
    token = sign_in(tunsigned, client_id, username)["AuthenticationResult"]["AccessToken"]
    tunsigned.get_user_attribute_verification_code(AccessToken=token, AttributeName="email",
                                                   ClientMetadata={"team": "check"})
    mail = sink.mail_to(email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_VerifyUserAttribute", code, "check")
    event = event_of(events_dir, "CustomMessage_VerifyUserAttribute", username)
    assert_custom_event(event, "CustomMessage_VerifyUserAttribute", pool_id, username, client_id,
                        {"team": "check"})
    tunsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    attrs = {a["Name"]: a["Value"] for a in tidp.admin_get_user(UserPoolId=pool_id, Username=username)["UserAttributes"]}
    assert attrs["email_verified"] == "true"


# Firing: AdminCreateUser / API -> PreSignUp_AdminCreateUser (none configured), CustomMessage_AdminCreateUser
def test_admin_create_user_mails_the_handlers_invitation_and_its_temporary_password_signs_in(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    tidp.admin_create_user(UserPoolId=pool_id, Username=username, ClientMetadata={"team": "invites"},
                           UserAttributes=[{"Name": "email", "Value": email}])
    mail = sink.mail_to(email)
    assert mail["subject"] == "Acme: CustomMessage_AdminCreateUser"
    assert f"Welcome to Acme, {username}!" in mail["text"]
    temporary = re.search(r"Your temporary password: (\S+)", mail["text"]).group(1)
    assert f"Your temporary password: {temporary}" in html.unescape(mail["html"])
    event = event_of(events_dir, "CustomMessage_AdminCreateUser", username)
    assert_custom_event(event, "CustomMessage_AdminCreateUser", pool_id, username, "CLIENT_ID_NOT_APPLICABLE",
                        {"team": "invites"})
    assert event["request"]["userAttributes"]["cognito:user_status"] == "FORCE_CHANGE_PASSWORD"
    assert temporary not in json.dumps(event)
    out = sign_in(tunsigned, client_id, username, temporary)
    assert out["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


# Firing: SignUp / API -> CustomMessage_SignUp (answer with only emailSubject)
def test_a_handler_that_sets_only_the_subject_keeps_the_pools_message(tidp, tunsigned, sink):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique("subject-only.example")
    tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}])
    mail = sink.mail_to(email)
    assert mail["subject"] == "Acme: CustomMessage_SignUp"
    code = re.search(r"\b(\d{6})\b", mail["text"]).group(1)
    tunsigned.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=code)


# Firing: SignUp / API -> CustomMessage_SignUp (a message without {####})
def test_a_message_without_the_code_placeholder_is_refused_and_creates_nothing(tidp, tunsigned, sink):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique("nocode.example")
    with pytest.raises(tunsigned.exceptions.InvalidParameterException) as e:
        tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": email}])
    # Cognito's own validation message for a custom emailMessage without the code.
    assert "at 'emailBody' failed to satisfy constraint" in str(e.value)
    assert r"\{####\}" in str(e.value)
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username=username)
    assert sink.nothing_to(email)


# Firing: SignUp / API -> CustomMessage_SignUp (the handler raises)
def test_a_raising_handler_fails_sign_up_with_its_message_and_leaves_no_user(tidp, tunsigned, sink):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique("raise.example")
    with pytest.raises(tunsigned.exceptions.UserLambdaValidationException) as e:
        tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": email}])
    assert "CustomMessage failed with error No mail to raise.example." in str(e.value)
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username=username)
    assert sink.nothing_to(email)
    # The name is free again: the same sign-up succeeds once the handler lets it.
    tidp.update_user_pool(UserPoolId=pool_id, LambdaConfig={})
    tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}])


# Firing: SignUp / API -> CustomMessage_SignUp (a bad answer; no such function)
@pytest.mark.parametrize("function, exception", [
    ("custom-message-bad-type", "InvalidLambdaResponseException"),
    ("no-such-function", "UnexpectedLambdaException"),
])
def test_a_broken_custom_message_gives_cognitos_exception_and_leaves_no_user(tidp, tunsigned, sink, function,
                                                                             exception):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + function})
    username, email = unique()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": email}])
    assert e.value.response["Error"]["Code"] == exception
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username=username)
    assert sink.nothing_to(email)


# Firing: ResendConfirmationCode / API -> CustomMessage_ResendCode (the handler raises)
def test_a_raising_handler_fails_the_resend_and_the_previous_code_keeps_working(tidp, tunsigned, sink):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}])
    first = code_in(sink.mail_to(email))
    with pytest.raises(tunsigned.exceptions.UserLambdaValidationException) as e:
        tunsigned.resend_confirmation_code(ClientId=client_id, Username=username,
                                           ClientMetadata={"fail": "Resends are paused"})
    assert "CustomMessage failed with error Resends are paused." in str(e.value)
    assert sink.nothing_to(email)
    tunsigned.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=first)


# Firing: AdminCreateUser / API -> CustomMessage_AdminCreateUser (the handler raises)
def test_a_raising_handler_fails_admin_create_user_and_leaves_no_user(tidp, sink):
    pool_id, _ = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique("raise.example")
    with pytest.raises(tidp.exceptions.UserLambdaValidationException) as e:
        tidp.admin_create_user(UserPoolId=pool_id, Username=username,
                               UserAttributes=[{"Name": "email", "Value": email}])
    assert "CustomMessage failed with error No mail to raise.example." in str(e.value)
    with pytest.raises(tidp.exceptions.UserNotFoundException):
        tidp.admin_get_user(UserPoolId=pool_id, Username=username)


# Firing: UpdateUserAttributes (email) / API -> CustomMessage_UpdateUserAttribute (the handler raises)
def test_a_raising_handler_fails_update_user_attributes_and_changes_nothing(tidp, tunsigned):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email)
    token = sign_in(tunsigned, client_id, username)["AuthenticationResult"]["AccessToken"]
    _, blocked = unique("raise.example")
    with pytest.raises(tunsigned.exceptions.UserLambdaValidationException):
        tunsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": blocked}])
    attrs = {a["Name"]: a["Value"] for a in tidp.admin_get_user(UserPoolId=pool_id, Username=username)["UserAttributes"]}
    assert attrs["email"] == email and attrs["email_verified"] == "true"


# Firing: SignUp / API -> PreSignUp_SignUp, CustomMessage_SignUp
def test_sign_up_client_metadata_and_validation_data_reach_pre_sign_up_and_custom_message(
        tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"PreSignUp": ARN + "pre-sign-up",
                                         "CustomMessage": ARN + "custom-message"})
    username, email = unique()
    tunsigned.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}],
                      ValidationData=[{"Name": "invite", "Value": "INV-7"}],
                      ClientMetadata={"team": "meta"})
    pre = event_of(events_dir, "PreSignUp_SignUp", username)
    assert pre["request"]["validationData"] == {"invite": "INV-7"}
    assert pre["request"]["clientMetadata"] == {"team": "meta"}
    custom = event_of(events_dir, "CustomMessage_SignUp", username)
    assert custom["request"]["clientMetadata"] == {"team": "meta"}
    # Pre sign-up ran first: its event is the older one.
    assert (events_dir / f"PreSignUp_SignUp-{username}.json").stat().st_mtime_ns <= \
        (events_dir / f"CustomMessage_SignUp-{username}.json").stat().st_mtime_ns
    mail = sink.mail_to(email)
    assert_branded(mail, "CustomMessage_SignUp", code_in(mail), "meta")


# ---- the hosted pages go through the same flows -------------------------------------


class Browser:
    """Cookies kept, redirects not followed."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def go(self, method, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req) as res:
                return res.status, dict(res.headers), res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()


def hosted_query(client_id):
    """An authorization request's query, as the hosted pages carry it (PKCE: public client)."""
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                                   "scope": "openid email", "code_challenge": challenge,
                                   "code_challenge_method": "S256"})


def hosted_form(browser, url, path):
    status, headers, body = browser.go("GET", url + path)
    assert status == 200, (status, headers, body[:300])
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', body).group(1))
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    return urllib.parse.urljoin(url + path, action), csrf


# Firing: SignUp / hosted sign-up page -> CustomMessage_SignUp (the handler raises; then one that answers)
def test_a_failing_custom_message_on_the_hosted_sign_up_page_shows_its_message(trig, tidp, sink, events_dir):
    url = trig[0]
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"}, UsernameAttributes=["email"])
    query = hosted_query(client_id)
    browser = Browser()
    _, blocked = unique("raise.example")
    action, csrf = hosted_form(browser, url, f"/{pool_id}/signup?{query}")
    status, _, body = browser.go("POST", action, {"csrf_token": csrf, "username": blocked,
                                                  "password": PASSWORD, "confirm_password": PASSWORD})
    assert status == 400, body[:500]
    assert "<html" in body.lower() and "<form" in body
    assert "CustomMessage failed with error No mail to raise.example." in html.unescape(body)
    assert tidp.list_users(UserPoolId=pool_id)["Users"] == []
    # A handler that answers: its message carries the one-click link where it put it.
    _, email = unique()
    action, csrf = hosted_form(browser, url, f"/{pool_id}/signup?{query}")
    status, headers, body = browser.go("POST", action, {"csrf_token": csrf, "username": email,
                                                        "password": PASSWORD, "confirm_password": PASSWORD})
    assert status in (302, 303), body[:500]
    mail = sink.mail_to(email)
    assert mail["subject"] == "Acme: CustomMessage_SignUp"
    link = re.search(r"Or: (\S+)", mail["text"]).group(1)
    assert "/confirmLink/" in link
    assert re.search(r'<a href="[^"]*/confirmLink/[^"]+">Click Here</a>', mail["html"]), mail["html"]
    users = tidp.list_users(UserPoolId=pool_id)["Users"]
    event = event_of(events_dir, "CustomMessage_SignUp", users[0]["Username"])
    assert event["request"]["linkParameter"] == "{##Click Here##}"


# Firing: ForgotPassword / hosted forgot-password page -> CustomMessage_ForgotPassword (the handler raises)
def test_a_failing_custom_message_on_the_hosted_forgot_password_page_shows_its_message(trig, tidp):
    url = trig[0]
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    username, blocked = unique("raise.example")
    confirmed_user(tidp, pool_id, username, blocked)
    query = hosted_query(client_id)
    browser = Browser()
    action, csrf = hosted_form(browser, url, f"/{pool_id}/forgotPassword?{query}")
    status, _, body = browser.go("POST", action, {"csrf_token": csrf, "username": username})
    assert status == 400, body[:500]
    assert "<form" in body
    assert "CustomMessage failed with error No mail to raise.example." in html.unescape(body)


# Firing: InitiateAuth / EMAIL_OTP -> CustomMessage_Authentication
def test_an_email_otp_sign_in_mails_the_handlers_message_over_smtp_and_its_code_signs_in(
        trig, tidp, tunsigned, sink, events_dir):
    pool_id, client_id = new_pool(tidp, {"CustomMessage": ARN + "custom-message"})
    tidp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON",
                                  EmailMfaConfiguration={"Subject": "Sign in", "Message": "Code {####}"})
    username, email = unique()
    confirmed_user(tidp, pool_id, username, email)
    started = tunsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
                                      ClientMetadata={"team": "green"})
    assert started["ChallengeName"] == "EMAIL_OTP" and "AuthenticationResult" not in started
    mail = sink.mail_to(email)
    code = code_in(mail)
    assert_branded(mail, "CustomMessage_Authentication", code, "green")
    event = event_of(events_dir, "CustomMessage_Authentication", username)
    assert_custom_event(event, "CustomMessage_Authentication", pool_id, username, client_id, {"team": "green"})
    assert code not in json.dumps(event)
    done = tunsigned.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="EMAIL_OTP", Session=started["Session"],
        ChallengeResponses={"USERNAME": username, "EMAIL_OTP_CODE": code})
    assert claims(done["AuthenticationResult"]["IdToken"])["email"] == email
    log = cognate_cli("triggers", "log", "--pool", pool_id, env=trig[1])
    assert [e["trigger_source"] for e in log] == ["CustomMessage_Authentication"]
