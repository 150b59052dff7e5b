"""Custom authentication (issue 16): InitiateAuth CUSTOM_AUTH and RespondToAuthChallenge
CUSTOM_CHALLENGE through boto3, driven by define / create / verify auth challenge
handlers written as Lambda code (trigger_handlers_custom_auth.py: a one-time code),
served by tools/lambda_runner/lambda_runner.py.

The module runs its own server (with a test clock, to expire sessions): its wrong answers
count against the throttle of 127.0.0.1, which must not reach other modules."""
import base64
import hashlib
import hmac
import json
import pathlib
import tempfile
import uuid

import botocore
import pytest

from conftest import (PASSWORD, advance_clock, claims, cognate_cli, create_user, lambda_runner, make_client,
                      new_server_env, run_server)

HANDLERS = pathlib.Path(__file__).with_name("trigger_handlers_custom_auth.py")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
OTP = {
    "DefineAuthChallenge": ARN + "ca-define",
    "CreateAuthChallenge": ARN + "ca-create",
    "VerifyAuthChallengeResponse": ARN + "ca-verify",
}


@pytest.fixture(scope="module")
def events_dir():
    return pathlib.Path(tempfile.mkdtemp(prefix="cognate-custom-auth-events-"))


@pytest.fixture(scope="module")
def runner(events_dir):
    names = ["define", "create", "verify", "define_raises", "define_malformed", "define_asks_for_password",
             "define_always_challenges", "verify_malformed", "record"]
    yield from lambda_runner(HANDLERS, names, events_dir, prefix="ca-")


@pytest.fixture(scope="module")
def cas(runner):
    env = new_server_env(COGNATE_LAMBDA_ENDPOINT=runner, COGNATE_TEST_CLOCK="true")
    for url in run_server(env):
        yield url, env


@pytest.fixture
def idp(cas):
    return make_client(cas[0])


@pytest.fixture
def unsigned(cas):
    return make_client(cas[0], signature_version=botocore.UNSIGNED)


def new_pool(idp, lambda_config=None, flows=("ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")):
    pool_id = idp.create_user_pool(
        PoolName=f"ca-{uuid.uuid4().hex[:6]}", LambdaConfig=OTP if lambda_config is None else lambda_config,
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=list(flows),
    )["UserPoolClient"]["ClientId"]
    return {"id": pool_id, "client_id": client_id}


def new_user(idp, pool, **attributes):
    name = f"u{uuid.uuid4().hex[:8]}"
    create_user(idp, pool, name, email=f"{name}@example.com", **attributes)
    return name


def events(events_dir, name):
    path = events_dir / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def code_for(events_dir, name):
    return (events_dir / f"code-{name}.txt").read_text().strip()


def start(api, pool, name, surface="user", **extra):
    if surface == "admin":
        return api.admin_initiate_auth(UserPoolId=pool["id"], ClientId=pool["client_id"], AuthFlow="CUSTOM_AUTH",
                                       AuthParameters={"USERNAME": name}, **extra)
    return api.initiate_auth(ClientId=pool["client_id"], AuthFlow="CUSTOM_AUTH",
                             AuthParameters={"USERNAME": name}, **extra)


def answer(api, pool, name, session, value, surface="user", **extra):
    args = dict(ClientId=pool["client_id"], ChallengeName="CUSTOM_CHALLENGE", Session=session,
                ChallengeResponses={"USERNAME": name, "ANSWER": value}, **extra)
    if surface == "admin":
        return api.admin_respond_to_auth_challenge(UserPoolId=pool["id"], **args)
    return api.respond_to_auth_challenge(**args)


def error_code(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


# Firing: InitiateAuth CUSTOM_AUTH / known user -> DefineAuthChallenge_Authentication, CreateAuthChallenge_Authentication
# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / right answer -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication (issueTokens)
# Firing: AdminInitiateAuth CUSTOM_AUTH and AdminRespondToAuthChallenge CUSTOM_CHALLENGE / the same
@pytest.mark.parametrize("surface", ["user", "admin"])
def test_custom_auth_signs_in_through_boto3_with_cognitos_events(idp, unsigned, events_dir, surface):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    sub = idp.admin_get_user(UserPoolId=pool["id"], Username=name)["UserAttributes"]
    sub = {a["Name"]: a["Value"] for a in sub}["sub"]
    api = idp if surface == "admin" else unsigned

    first = start(api, pool, name, surface, ClientMetadata={"app": "mobile"})
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"delivery": "EMAIL", "attempt": "1", "USERNAME": name}
    assert "AuthenticationResult" not in first and first["Session"]
    out = answer(api, pool, name, first["Session"], code_for(events_dir, name), surface,
                 ClientMetadata={"app": "mobile", "step": "answer"})
    result = out["AuthenticationResult"]
    id_claims, access_claims = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_claims["sub"] == sub and id_claims["token_use"] == "id"
    assert id_claims["cognito:username"] == name and id_claims["aud"] == pool["client_id"]
    assert access_claims["sub"] == sub and access_claims["token_use"] == "access"
    assert result["RefreshToken"] and result["TokenType"] == "Bearer"
    # The refresh token works like any API sign-in's.
    refreshed = unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
                                       AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})
    assert claims(refreshed["AuthenticationResult"]["IdToken"])["sub"] == sub

    seen = events(events_dir, name)
    assert [e["triggerSource"] for e in seen] == [
        "DefineAuthChallenge_Authentication", "CreateAuthChallenge_Authentication",
        "VerifyAuthChallengeResponse_Authentication", "DefineAuthChallenge_Authentication"]
    for e in seen:
        assert e["version"] == "1" and e["region"] == "us-east-1"
        assert e["userPoolId"] == pool["id"] and e["userName"] == name
        assert e["callerContext"]["clientId"] == pool["client_id"] and e["callerContext"]["awsSdkVersion"]
        attrs = e["request"]["userAttributes"]
        assert attrs["sub"] == sub and attrs["email"] == f"{name}@example.com"
        assert attrs["cognito:user_status"] == "CONFIRMED"
        # userNotFound: the pool prevents user existence errors (the default).
        assert e["request"]["userNotFound"] is False
    define1, create, verify, define2 = seen
    assert define1["request"]["session"] == []
    assert define1["request"]["clientMetadata"] == {"app": "mobile"}
    assert define1["response"] == {"challengeName": None, "issueTokens": None, "failAuthentication": None}
    assert create["request"]["challengeName"] == "CUSTOM_CHALLENGE" and create["request"]["session"] == []
    assert create["response"] == {"publicChallengeParameters": None, "privateChallengeParameters": None,
                                  "challengeMetadata": None}
    assert verify["request"]["privateChallengeParameters"] == {"code": code_for(events_dir, name)}
    assert verify["request"]["challengeAnswer"] == code_for(events_dir, name)
    assert verify["request"]["clientMetadata"] == {"app": "mobile", "step": "answer"}
    assert verify["response"] == {"answerCorrect": None}
    assert define2["request"]["session"] == [
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True, "challengeMetadata": "EMAIL_CODE-1"}]


# Firing: InitiateAuth CUSTOM_AUTH / with pre authentication -> PreAuthentication_Authentication, DefineAuthChallenge_Authentication, CreateAuthChallenge_Authentication
# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / right answer, with post authentication and pre token
#         generation -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication, PostAuthentication_Authentication, TokenGeneration_Authentication
def test_custom_auth_raises_pre_and_post_authentication_and_pre_token_generation(idp, unsigned, events_dir):
    pool = new_pool(idp, {**OTP, "PreAuthentication": ARN + "ca-record", "PostAuthentication": ARN + "ca-record",
                          "PreTokenGeneration": ARN + "ca-record"})
    name = new_user(idp, pool)
    first = start(unsigned, pool, name, ClientMetadata={"via": "otp"})
    answer(unsigned, pool, name, first["Session"], code_for(events_dir, name), ClientMetadata={"via": "otp"})
    seen = events(events_dir, name)
    assert [e["triggerSource"] for e in seen] == [
        "PreAuthentication_Authentication", "DefineAuthChallenge_Authentication",
        "CreateAuthChallenge_Authentication", "VerifyAuthChallengeResponse_Authentication",
        "DefineAuthChallenge_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication"]
    assert seen[-1]["request"]["clientMetadata"] == {"via": "otp"}


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / wrong answer -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication, CreateAuthChallenge_Authentication (the next challenge)
def test_a_wrong_answer_gets_another_challenge_with_the_history(idp, unsigned, events_dir):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    first = start(unsigned, pool, name)
    second = answer(unsigned, pool, name, first["Session"], "000000-wrong")
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert second["ChallengeParameters"] == {"delivery": "EMAIL", "attempt": "2", "USERNAME": name}
    assert second["Session"] != first["Session"]
    out = answer(unsigned, pool, name, second["Session"], code_for(events_dir, name))
    assert claims(out["AuthenticationResult"]["AccessToken"])["username"] == name
    seen = events(events_dir, name)
    assert [e["triggerSource"].split("_")[0] for e in seen] == [
        "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "DefineAuthChallenge",
        "CreateAuthChallenge", "VerifyAuthChallengeResponse", "DefineAuthChallenge"]
    assert seen[4]["request"]["session"] == [
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "EMAIL_CODE-1"}]
    assert seen[-1]["request"]["session"] == [
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "EMAIL_CODE-1"},
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True, "challengeMetadata": "EMAIL_CODE-2"}]


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / third wrong answer -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication (failAuthentication)
def test_three_wrong_answers_fail_the_sign_in(idp, unsigned, events_dir):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    session = start(unsigned, pool, name)["Session"]
    for _ in range(2):
        session = answer(unsigned, pool, name, session, "nope")["Session"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        answer(unsigned, pool, name, session, "nope")
    assert error_code(e)[1] == "Incorrect username or password."
    assert events(events_dir, name)[-1]["request"]["session"][-1]["challengeResult"] is False
    # The user can start again.
    assert start(unsigned, pool, name)["ChallengeName"] == "CUSTOM_CHALLENGE"


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / wrong answers, throttled -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication; then none
def test_wrong_answers_count_against_the_throttle(idp, unsigned):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    refused = None
    for _ in range(4):
        try:
            session = start(unsigned, pool, name)["Session"]
            for _ in range(3):
                session = answer(unsigned, pool, name, session, "nope").get("Session")
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "TooManyRequestsException":
                refused = e
                break
            assert e.response["Error"]["Code"] == "NotAuthorizedException"
    assert refused is not None, "wrong answers are counted like wrong passwords"


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / tampered, expired or other client's session -> none
def test_a_tampered_expired_or_other_clients_session_is_refused(cas, idp, unsigned, events_dir):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    session = start(unsigned, pool, name)["Session"]
    code = code_for(events_dir, name)
    flipped = session[:40] + ("A" if session[40] != "A" else "B") + session[41:]
    for bad in (flipped, session[:-4], "not-a-session-at-all-" * 3):
        with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
            answer(unsigned, pool, name, bad, code)
        assert "Invalid session" in error_code(e)[1]
    # Another client of the same pool, and another user's name.
    other = idp.create_user_pool_client(UserPoolId=pool["id"], ClientName="other",
                                        ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH"])["UserPoolClient"]["ClientId"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        answer(unsigned, {**pool, "client_id": other}, name, session, code)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        answer(unsigned, pool, new_user(idp, pool), session, code)
    # A NEW_PASSWORD_REQUIRED answer cannot use it either.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.respond_to_auth_challenge(ClientId=pool["client_id"], ChallengeName="NEW_PASSWORD_REQUIRED",
                                           Session=session,
                                           ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": PASSWORD + "n"})
    # The client's AuthSessionValidity (3 minutes by default) ends it.
    advance_clock(cas[0], 3 * 60 + 1)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        answer(unsigned, pool, name, session, code)
    assert error_code(e)[1] == "Invalid session for the user, session is expired."


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / session already answered -> none
def test_each_session_is_answered_once(idp, unsigned, events_dir):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    first = start(unsigned, pool, name)["Session"]
    second = answer(unsigned, pool, name, first, "nope")["Session"]
    # Replaying the first session to try another answer (and to dodge the count of wrong
    # answers) is refused, even with the right answer.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        answer(unsigned, pool, name, first, code_for(events_dir, name))
    assert "Invalid session" in error_code(e)[1]
    verifies = [e for e in events(events_dir, name) if e["triggerSource"].startswith("Verify")]
    assert len(verifies) == 1, "a replay reaches no trigger"
    out = answer(unsigned, pool, name, second, code_for(events_dir, name))
    assert "AuthenticationResult" in out
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        answer(unsigned, pool, name, second, code_for(events_dir, name))


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / the user's password changed meanwhile -> none
def test_a_password_change_ends_the_sign_in(idp, unsigned, events_dir):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    session = start(unsigned, pool, name)["Session"]
    idp.admin_set_user_password(UserPoolId=pool["id"], Username=name, Password=PASSWORD + "2", Permanent=True)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        answer(unsigned, pool, name, session, code_for(events_dir, name))
    assert "Invalid session" in error_code(e)[1]


# Firing: InitiateAuth and AdminInitiateAuth CUSTOM_AUTH / client without ALLOW_CUSTOM_AUTH -> none
def test_a_client_without_allow_custom_auth_is_refused(idp, unsigned, events_dir):
    pool = new_pool(idp, flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    name = new_user(idp, pool)
    for surface, api in (("user", unsigned), ("admin", idp)):
        with pytest.raises(api.exceptions.InvalidParameterException) as e:
            start(api, pool, name, surface)
        assert "CUSTOM_AUTH" in error_code(e)[1]
    assert events(events_dir, name) == []


# Firing: InitiateAuth CUSTOM_AUTH / pool without DefineAuthChallenge -> none
@pytest.mark.parametrize("config", [{}, {"PostAuthentication": ARN + "ca-verify"}])
def test_a_pool_without_a_define_trigger_refuses_custom_auth(idp, unsigned, config):
    pool = new_pool(idp, config)
    name = new_user(idp, pool)
    with pytest.raises(unsigned.exceptions.InvalidParameterException) as e:
        start(unsigned, pool, name)
    assert error_code(e)[1] == "Custom auth lambda trigger is not configured for the user pool."


# Firing: InitiateAuth CUSTOM_AUTH / with SRP_A (password first, not supported) -> none
def test_a_password_first_custom_auth_is_refused_clearly(idp, unsigned):
    pool = new_pool(idp)
    name = new_user(idp, pool)
    with pytest.raises(unsigned.exceptions.InvalidParameterException) as e:
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="CUSTOM_AUTH",
                               AuthParameters={"USERNAME": name, "SRP_A": "abcdef"})
    assert "SRP_A" in error_code(e)[1] and "not supported" in error_code(e)[1]


# Firing: InitiateAuth CUSTOM_AUTH / define handler raises, answers malformed or another challenge, or is
#         unreachable -> DefineAuthChallenge_Authentication
@pytest.mark.parametrize("define, exception, message", [
    ("ca-define-raises", "UserLambdaValidationException",
     "DefineAuthChallenge failed with error The sign-in service is closed for maintenance."),
    ("ca-define-malformed", "InvalidLambdaResponseException", "Unrecognizable lambda output"),
    ("ca-define-asks-for-password", "InvalidLambdaResponseException", "Unrecognizable lambda output"),
    ("ca-no-such-function", "UnexpectedLambdaException", None),
])
def test_a_failing_define_handler_gives_cognitos_exceptions(idp, unsigned, define, exception, message):
    pool = new_pool(idp, {**OTP, "DefineAuthChallenge": ARN + define})
    name = new_user(idp, pool)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        start(unsigned, pool, name)
    code, text = error_code(e)
    assert code == exception
    if message:
        assert text == message


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / verify handler answers malformed -> VerifyAuthChallengeResponse_Authentication
def test_a_malformed_verify_answer_is_an_invalid_lambda_response(idp, unsigned):
    pool = new_pool(idp, {**OTP, "VerifyAuthChallengeResponse": ARN + "ca-verify-malformed"})
    name = new_user(idp, pool)
    session = start(unsigned, pool, name)["Session"]
    with pytest.raises(unsigned.exceptions.InvalidLambdaResponseException):
        answer(unsigned, pool, name, session, "123456")


# Firing: InitiateAuth CUSTOM_AUTH / pool without CreateAuthChallenge -> DefineAuthChallenge_Authentication
def test_a_challenge_without_a_create_trigger_is_not_configured(idp, unsigned):
    pool = new_pool(idp, {"DefineAuthChallenge": OTP["DefineAuthChallenge"]})
    name = new_user(idp, pool)
    with pytest.raises(unsigned.exceptions.InvalidParameterException) as e:
        start(unsigned, pool, name)
    assert "not configured" in error_code(e)[1]


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / define handler never decides -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication, CreateAuthChallenge_Authentication, ...
#         until the tenth challenge is answered
def test_a_define_handler_that_never_decides_is_stopped_after_ten_challenges(idp, unsigned, events_dir):
    pool = new_pool(idp, {**OTP, "DefineAuthChallenge": ARN + "ca-define-always-challenges"})
    name = new_user(idp, pool)
    session = start(unsigned, pool, name)["Session"]
    rounds = 0
    # Right answers, so that no failure is counted: only the bound stops it.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        while True:
            session = answer(unsigned, pool, name, session, code_for(events_dir, name))["Session"]
            rounds += 1
            assert rounds < 20
    assert rounds == 9, "ten challenges in all, then the sign-in fails"


# Firing: InitiateAuth CUSTOM_AUTH / unknown name, PreventUserExistenceErrors ENABLED -> DefineAuthChallenge_Authentication, CreateAuthChallenge_Authentication
#         (userNotFound true)
# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / unknown name -> VerifyAuthChallengeResponse_Authentication, DefineAuthChallenge_Authentication, [CreateAuthChallenge_Authentication]; never tokens
def test_an_unknown_user_gets_the_same_answers_as_a_real_one(idp, unsigned, events_dir):
    pool = new_pool(idp)
    real = new_user(idp, pool)
    ghost = f"u{uuid.uuid4().hex[:8]}"
    answers = {}
    for name in (real, ghost):
        first = start(unsigned, pool, name)
        wrong = answer(unsigned, pool, name, first["Session"], "nope")
        answers[name] = (first, wrong)
    for i in (0, 1):
        r, g = answers[real][i], answers[ghost][i]
        assert set(r) == set(g)
        assert r["ChallengeName"] == g["ChallengeName"] == "CUSTOM_CHALLENGE"
        assert set(r["ChallengeParameters"]) == set(g["ChallengeParameters"])
        assert g["ChallengeParameters"]["USERNAME"] == ghost
        assert len(r["Session"]) == len(g["Session"]), "the session's length does not tell either"
    seen = events(events_dir, ghost)
    assert [e["triggerSource"].split("_")[0] for e in seen] == [
        "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "DefineAuthChallenge",
        "CreateAuthChallenge"]
    for e in seen:
        assert e["request"]["userNotFound"] is True
        assert e["request"]["userAttributes"] == {}
        assert e["userName"] == ghost
    # Even the right answer gives an unknown name nothing, in a wrong password's words.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        answer(unsigned, pool, ghost, answers[ghost][1]["Session"], code_for(events_dir, ghost))
    assert error_code(e)[1] == "Incorrect username or password."


# Firing: InitiateAuth CUSTOM_AUTH / unknown name, PreventUserExistenceErrors LEGACY -> none
def test_without_prevent_user_existence_errors_an_unknown_user_is_named(cas, idp, unsigned, events_dir):
    pool = new_pool(idp)
    cognate_cli("pool", "update", "--pool", pool["id"], "--prevent-user-existence-errors", "false", env=cas[1])
    ghost = f"u{uuid.uuid4().hex[:8]}"
    # `cognate_cli` returned after the server's config check: the setting applies.
    with pytest.raises(unsigned.exceptions.UserNotFoundException) as e:
        start(unsigned, pool, ghost)
    assert e.value.response["Error"]["Message"] == "User does not exist."
    # A real user's events then carry no userNotFound.
    name = new_user(idp, pool)
    start(unsigned, pool, name)
    assert "userNotFound" not in events(events_dir, name)[0]["request"]


# Firing: RespondToAuthChallenge CUSTOM_CHALLENGE / right answer, disabled or unconfirmed user -> VerifyAuthChallengeResponse_Authentication,
#         DefineAuthChallenge_Authentication (issueTokens), then refused like a password sign-in
def test_a_disabled_or_unconfirmed_user_is_refused_like_a_password_sign_in(idp, unsigned, events_dir):
    pool = new_pool(idp)
    disabled = new_user(idp, pool)
    idp.admin_disable_user(UserPoolId=pool["id"], Username=disabled)
    session = start(unsigned, pool, disabled)["Session"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        answer(unsigned, pool, disabled, session, code_for(events_dir, disabled))
    assert error_code(e)[1] == "User is disabled."

    unconfirmed = f"u{uuid.uuid4().hex[:8]}"
    unsigned.sign_up(ClientId=pool["client_id"], Username=unconfirmed, Password=PASSWORD,
                     UserAttributes=[{"Name": "email", "Value": f"{unconfirmed}@example.com"}])
    session = start(unsigned, pool, unconfirmed)["Session"]
    with pytest.raises(unsigned.exceptions.UserNotConfirmedException):
        answer(unsigned, pool, unconfirmed, session, code_for(events_dir, unconfirmed))


# Firing: InitiateAuth CUSTOM_AUTH / client with a secret, no SECRET_HASH -> none; with it -> DefineAuthChallenge_Authentication, CreateAuthChallenge_Authentication
def test_a_client_with_a_secret_needs_the_secret_hash(idp, unsigned, events_dir):
    pool = new_pool(idp)
    client = idp.create_user_pool_client(UserPoolId=pool["id"], ClientName="secret", GenerateSecret=True,
                                         ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH"])["UserPoolClient"]
    name = new_user(idp, pool)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=client["ClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": name})
    assert events(events_dir, name) == []
    digest = hmac.new(client["ClientSecret"].encode(), (name + client["ClientId"]).encode(), hashlib.sha256).digest()
    secret_hash = base64.b64encode(digest).decode()
    first = unsigned.initiate_auth(ClientId=client["ClientId"], AuthFlow="CUSTOM_AUTH",
                                   AuthParameters={"USERNAME": name, "SECRET_HASH": secret_hash})
    out = unsigned.respond_to_auth_challenge(
        ClientId=client["ClientId"], ChallengeName="CUSTOM_CHALLENGE", Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "ANSWER": code_for(events_dir, name), "SECRET_HASH": secret_hash})
    assert claims(out["AuthenticationResult"]["IdToken"])["cognito:username"] == name
