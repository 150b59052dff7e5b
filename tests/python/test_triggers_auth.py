"""Sign-in triggers (issue 16): pre and post authentication, pre token generation after
a new password, and user migration at sign-in and at a forgotten password, through
boto3 and pycognito, with handlers written as Lambda code served by the Python runner.
The order each operation fires its triggers in is read from the trigger log."""
import json
import pathlib
import tempfile
import uuid

import botocore
import pytest
from pycognito.aws_srp import AWSSRP

from conftest import PASSWORD, claims, cognate_cli, lambda_runner, make_client, new_server_env, outbox_code, run_server

HANDLERS = pathlib.Path(__file__).with_name("trigger_handlers_auth.py")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
ALL = {
    "PreAuthentication": ARN + "pre-auth",
    "PostAuthentication": ARN + "post-auth",
    "PreTokenGeneration": ARN + "pre-token",
    "UserMigration": ARN + "migrate",
}


@pytest.fixture(scope="module")
def events_dir():
    return pathlib.Path(tempfile.mkdtemp(prefix="cognate-auth-trigger-events-"))


@pytest.fixture(scope="module")
def auth_trig(events_dir):
    for runner in lambda_runner(HANDLERS, ["pre_auth", "post_auth", "pre_token", "migrate"], events_dir):
        server_env = new_server_env(COGNATE_LAMBDA_ENDPOINT=runner)
        for url in run_server(server_env):
            yield url, server_env


@pytest.fixture
def aidp(auth_trig):
    return make_client(auth_trig[0])


@pytest.fixture
def aunsigned(auth_trig):
    return make_client(auth_trig[0], signature_version=botocore.UNSIGNED)


def new_pool(idp, lambda_config, hide_names=True, env=None):
    pool_id = idp.create_user_pool(PoolName=f"auth-{uuid.uuid4().hex[:6]}", LambdaConfig=lambda_config)["UserPool"]["Id"]
    if not hide_names:
        # PreventUserExistenceErrors is a pool setting in cognate (ENABLED by default).
        cognate_cli("pool", "update", "--pool", pool_id, "--prevent-user-existence-errors", "false", env=env)
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                           "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def create_user(idp, pool_id, username, email, permanent=True):
    idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                          TemporaryPassword=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": email},
                                          {"Name": "email_verified", "Value": "true"}])
    if permanent:
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)


def fired(env, pool_id):
    """The trigger sources the pool raised, oldest first."""
    log = cognate_cli("triggers", "log", "--pool", pool_id, "--limit", "100", env=env)
    return [e["trigger_source"] for e in reversed(log)]


def event(events_dir, source):
    return json.loads((events_dir / f"{source}.json").read_text())


def password_auth(unsigned, client_id, username, password=PASSWORD, metadata=None):
    args = dict(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password})
    if metadata:
        args["ClientMetadata"] = metadata
    return unsigned.initiate_auth(**args)


# Firing: InitiateAuth USER_PASSWORD_AUTH / known user -> PreAuthentication_Authentication,
# PostAuthentication_Authentication, TokenGeneration_Authentication
def test_a_password_sign_in_fires_pre_and_post_authentication_then_pre_token(auth_trig, aidp, aunsigned, events_dir):
    pool_id, client_id = new_pool(aidp, ALL, hide_names=False, env=auth_trig[1])
    create_user(aidp, pool_id, "ann", "ann@example.com")
    result = password_auth(aunsigned, client_id, "ann", metadata={"device": "kiosk"})["AuthenticationResult"]
    assert claims(result["IdToken"])["source"] == "TokenGeneration_Authentication"
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication"]
    pre = event(events_dir, "PreAuthentication_Authentication")
    assert pre["userName"] == "ann" and pre["callerContext"]["clientId"] == client_id
    # Cognito hands InitiateAuth's ClientMetadata to pre authentication as validationData.
    assert pre["request"]["validationData"] == {"device": "kiosk"}
    assert pre["request"]["userAttributes"]["email"] == "ann@example.com"
    assert "userNotFound" not in pre["request"]
    assert pre["response"] == {}
    post = event(events_dir, "PostAuthentication_Authentication")
    assert post["request"]["clientMetadata"] == {"device": "kiosk"}
    assert post["request"]["newDeviceUsed"] is False
    assert post["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    # A refresh renews the session: pre token generation only.
    aunsigned.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                            AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
                            ClientMetadata={"why": "refresh"})
    assert fired(auth_trig[1], pool_id)[3:] == ["TokenGeneration_RefreshTokens"]
    assert event(events_dir, "TokenGeneration_RefreshTokens")["request"]["clientMetadata"] == {"why": "refresh"}


# Firing: InitiateAuth USER_PASSWORD_AUTH / pre authentication refuses -> PreAuthentication_Authentication
# Firing: InitiateAuth USER_PASSWORD_AUTH / post authentication refuses -> PreAuthentication_Authentication,
# PostAuthentication_Authentication
def test_a_refusing_pre_or_post_authentication_handler_stops_the_sign_in(auth_trig, aidp, aunsigned):
    pool_id, client_id = new_pool(aidp, ALL)
    create_user(aidp, pool_id, "ban", "ban@banned.example")
    create_user(aidp, pool_id, "aud", "aud@audit-down.example")
    with pytest.raises(aunsigned.exceptions.UserLambdaValidationException) as e:
        password_auth(aunsigned, client_id, "ban")
    assert "PreAuthentication failed with error Banned users may not sign in." in str(e.value)
    # Refused before the password was looked at: a wrong one gets the same answer.
    with pytest.raises(aunsigned.exceptions.UserLambdaValidationException):
        password_auth(aunsigned, client_id, "ban", password="Wrong-pass-1")
    with pytest.raises(aunsigned.exceptions.UserLambdaValidationException) as e:
        password_auth(aunsigned, client_id, "aud")
    assert "PostAuthentication failed with error The audit log is down." in str(e.value)
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "PreAuthentication_Authentication",
        "PreAuthentication_Authentication", "PostAuthentication_Authentication"]


# Firing: InitiateAuth USER_SRP_AUTH + RespondToAuthChallenge PASSWORD_VERIFIER -> PreAuthentication_Authentication
# (at InitiateAuth), PostAuthentication_Authentication, TokenGeneration_Authentication; never UserMigration
def test_an_srp_sign_in_fires_the_same_triggers_and_never_migrates(auth_trig, aidp, aunsigned):
    pool_id, client_id = new_pool(aidp, ALL)
    create_user(aidp, pool_id, "sam", "sam@example.com")
    tokens = AWSSRP(username="sam", password=PASSWORD, pool_id=pool_id, client_id=client_id,
                    client=aunsigned).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["IdToken"])["source"] == "TokenGeneration_Authentication"
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication"]
    # A legacy user signing in with SRP is not migrated: the password never reaches us.
    with pytest.raises(aunsigned.exceptions.NotAuthorizedException):
        AWSSRP(username="old-ann", password="Legacy-pass-1", pool_id=pool_id, client_id=client_id,
               client=aunsigned).authenticate_user()
    assert "UserMigration_Authentication" not in fired(auth_trig[1], pool_id)
    with pytest.raises(aidp.exceptions.UserNotFoundException):
        aidp.admin_get_user(UserPoolId=pool_id, Username="old-ann")


# Firing: RespondToAuthChallenge NEW_PASSWORD_REQUIRED -> PreAuthentication_Authentication (at InitiateAuth),
# PostAuthentication_Authentication, TokenGeneration_NewPasswordChallenge
def test_a_new_password_challenge_issues_tokens_as_new_password_challenge(auth_trig, aidp, aunsigned, events_dir):
    pool_id, client_id = new_pool(aidp, ALL)
    create_user(aidp, pool_id, "tim", "tim@example.com", permanent=False)
    challenge = password_auth(aunsigned, client_id, "tim")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    result = aunsigned.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "tim", "NEW_PASSWORD": PASSWORD + "n"},
        ClientMetadata={"step": "new-password"})["AuthenticationResult"]
    assert claims(result["IdToken"])["source"] == "TokenGeneration_NewPasswordChallenge"
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "PostAuthentication_Authentication",
        "TokenGeneration_NewPasswordChallenge"]
    assert event(events_dir, "TokenGeneration_NewPasswordChallenge")["request"]["clientMetadata"] == {
        "step": "new-password"}


# Firing: InitiateAuth USER_PASSWORD_AUTH / unknown name, PreventUserExistenceErrors ENABLED ->
# PreAuthentication_Authentication (userNotFound), UserMigration_Authentication
def test_pre_authentication_sees_unknown_names_only_when_the_pool_hides_them(auth_trig, aidp, aunsigned, events_dir):
    for hide in (False, True):
        pool_id, client_id = new_pool(aidp, {"PreAuthentication": ARN + "pre-auth"}, hide_names=hide,
                                      env=auth_trig[1])
        create_user(aidp, pool_id, "kim", "kim@example.com")
        with pytest.raises(aunsigned.exceptions.NotAuthorizedException):
            password_auth(aunsigned, client_id, "nobody")
        if hide:
            assert fired(auth_trig[1], pool_id) == ["PreAuthentication_Authentication"]
            pre = event(events_dir, "PreAuthentication_Authentication")
            assert pre["userName"] == "nobody"
            assert pre["request"]["userNotFound"] is True and pre["request"]["userAttributes"] == {}
            password_auth(aunsigned, client_id, "kim")
            assert event(events_dir, "PreAuthentication_Authentication")["request"]["userNotFound"] is False
        else:
            assert fired(auth_trig[1], pool_id) == []


# Firing: InitiateAuth USER_PASSWORD_AUTH / unknown name, legacy password right -> PreAuthentication_Authentication
# (userNotFound, when the pool hides names), UserMigration_Authentication, PostAuthentication_Authentication,
# TokenGeneration_Authentication
def test_user_migration_at_sign_in_creates_the_user_with_the_password_just_proven(auth_trig, aidp, aunsigned, events_dir):
    pool_id, client_id = new_pool(aidp, ALL)
    result = password_auth(aunsigned, client_id, "old-ann", password="Legacy-pass-1",
                           metadata={"from": "login"})["AuthenticationResult"]
    assert claims(result["IdToken"])["email"] == "old-ann@example.com"
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "UserMigration_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication"]
    migration = event(events_dir, "UserMigration_Authentication")
    assert migration["userName"] == "old-ann"
    assert migration["request"]["password"] == "Legacy-pass-1"
    assert migration["request"]["validationData"] == {"from": "login"}
    assert migration["response"] == {"userAttributes": None, "finalUserStatus": None, "messageAction": None,
                                     "desiredDeliveryMediums": None, "forceAliasCreation": None,
                                     "enableSMSMFA": None}
    user = aidp.admin_get_user(UserPoolId=pool_id, Username="old-ann")
    assert user["UserStatus"] == "CONFIRMED"
    # The password never reaches the trigger log.
    log = cognate_cli("triggers", "log", "--pool", pool_id, env=auth_trig[1])
    assert "Legacy-pass-1" not in json.dumps(log)
    # The next sign-in finds the user: no migration, and the same password (by SRP too).
    password_auth(aunsigned, client_id, "old-ann", password="Legacy-pass-1")
    AWSSRP(username="old-ann", password="Legacy-pass-1", pool_id=pool_id, client_id=client_id,
           client=aunsigned).authenticate_user()
    assert fired(auth_trig[1], pool_id).count("UserMigration_Authentication") == 1


def test_a_refused_or_invalid_migration_creates_nothing(auth_trig, aidp, aunsigned):
    pool_id, client_id = new_pool(aidp, {"UserMigration": ARN + "migrate"})
    # The legacy directory refuses the password: a failed sign-in like any other.
    with pytest.raises(aunsigned.exceptions.NotAuthorizedException) as e:
        password_auth(aunsigned, client_id, "old-bob", password="Wrong-pass-1")
    assert "Incorrect username or password." in str(e.value)
    with pytest.raises(aunsigned.exceptions.NotAuthorizedException):
        password_auth(aunsigned, client_id, "never-heard-of", password="Wrong-pass-1")
    # A handler may not choose the user's sub.
    with pytest.raises(aunsigned.exceptions.InvalidLambdaResponseException):
        password_auth(aunsigned, client_id, "old-sub", password="Legacy-pass-4")
    for name in ("old-bob", "never-heard-of", "old-sub"):
        with pytest.raises(aidp.exceptions.UserNotFoundException):
            aidp.admin_get_user(UserPoolId=pool_id, Username=name)


def test_a_migrated_user_the_trigger_or_the_policy_sends_to_reset_must_reset(auth_trig, aidp, aunsigned):
    pool_id, client_id = new_pool(aidp, {"UserMigration": ARN + "migrate"})
    # finalUserStatus RESET_REQUIRED: created, and told to reset, as on Cognito.
    with pytest.raises(aunsigned.exceptions.PasswordResetRequiredException):
        password_auth(aunsigned, client_id, "old-reset", password="Legacy-pass-3")
    # A legacy password the pool's policy refuses is not carried over either.
    with pytest.raises(aunsigned.exceptions.PasswordResetRequiredException):
        password_auth(aunsigned, client_id, "old-weak", password="weak")
    for name in ("old-reset", "old-weak"):
        assert aidp.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"] == "RESET_REQUIRED"


# Firing: ForgotPassword / unknown name -> UserMigration_ForgotPassword (then ConfirmForgotPassword:
# PostConfirmation_ConfirmForgotPassword)
def test_user_migration_at_forgot_password_creates_the_user_and_sends_a_code(auth_trig, aidp, aunsigned, events_dir):
    pool_id, client_id = new_pool(aidp, ALL)
    aunsigned.forgot_password(ClientId=client_id, Username="old-bob", ClientMetadata={"from": "reset"})
    migration = event(events_dir, "UserMigration_ForgotPassword")
    assert "password" not in migration["request"]
    assert migration["request"]["clientMetadata"] == {"from": "reset"}
    assert aidp.admin_get_user(UserPoolId=pool_id, Username="old-bob")["UserStatus"] == "RESET_REQUIRED"
    code = outbox_code("old-bob@example.com", env=auth_trig[1])
    aunsigned.confirm_forgot_password(ClientId=client_id, Username="old-bob", ConfirmationCode=code,
                                      Password=PASSWORD)
    password_auth(aunsigned, client_id, "old-bob")
    assert fired(auth_trig[1], pool_id) == [
        "UserMigration_ForgotPassword", "PreAuthentication_Authentication", "PostAuthentication_Authentication",
        "TokenGeneration_Authentication"]
    # A name the legacy directory does not know gets the answer an unknown name gets.
    aunsigned.forgot_password(ClientId=client_id, Username="never-heard-of")
    with pytest.raises(aidp.exceptions.UserNotFoundException):
        aidp.admin_get_user(UserPoolId=pool_id, Username="never-heard-of")


def test_admin_initiate_auth_fires_the_same_triggers(auth_trig, aidp):
    pool_id, client_id = new_pool(aidp, ALL)
    create_user(aidp, pool_id, "adm", "adm@example.com")
    aidp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "adm", "PASSWORD": PASSWORD},
                             ClientMetadata={"by": "backend"})
    aidp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "old-ann", "PASSWORD": "Legacy-pass-1"})
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication",
        "PreAuthentication_Authentication", "UserMigration_Authentication", "PostAuthentication_Authentication",
        "TokenGeneration_Authentication"]


# Firing: InitiateAuth USER_PASSWORD_AUTH / MFA -> PreAuthentication_Authentication; then
# RespondToAuthChallenge EMAIL_OTP -> PostAuthentication_Authentication, TokenGeneration_Authentication
def test_an_mfa_sign_in_fires_post_authentication_and_pre_token_only_after_the_code(auth_trig, aidp, aunsigned):
    pool_id, client_id = new_pool(aidp, ALL)
    aidp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON", EmailMfaConfiguration={})
    email = f"mia-{uuid.uuid4().hex[:6]}@example.com"
    create_user(aidp, pool_id, "mia", email)
    started = password_auth(aunsigned, client_id, "mia")
    assert started["ChallengeName"] == "EMAIL_OTP"
    assert fired(auth_trig[1], pool_id) == ["PreAuthentication_Authentication"]
    done = aunsigned.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="EMAIL_OTP", Session=started["Session"],
        ChallengeResponses={"USERNAME": "mia", "EMAIL_OTP_CODE": outbox_code(email, env=auth_trig[1])})
    assert claims(done["AuthenticationResult"]["IdToken"])["source"] == "TokenGeneration_Authentication"
    assert fired(auth_trig[1], pool_id) == [
        "PreAuthentication_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication"]
