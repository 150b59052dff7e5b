"""MFA through the Cognito API (issue 18): TOTP enrolment and sign-in with boto3 and
pycognito, codes computed by pyotp (not the server's TOTP code), e-mailed codes read
from the outbox, the pool's OFF/ON/OPTIONAL modes, preferences and their refusals."""

import time
import uuid

import pyotp
import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from conftest import PASSWORD, claims, cognate_cli, create_user, outbox_code

def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]

@pytest.fixture(autouse=True)
def clear_of_step_boundary():
    """Codes are computed for the step before, at and after now; a test that starts well
    inside a 30-second step finishes inside it and the next, so none is out of range."""
    into = time.time() % 30
    if into < 2 or into > 20:
        time.sleep(30 - into + 2.5 if into > 20 else 2.5 - into)

def code_at(secret, steps_from_now):
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)

def mfa_pool(idp, pool, mode, software_token=True, email=None):
    args = dict(UserPoolId=pool["id"], MfaConfiguration=mode)
    if software_token:
        args["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
    if email is not None:
        args["EmailMfaConfiguration"] = email
    return idp.set_user_pool_mfa_config(**args)

def password_auth(unsigned, pool, username):
    return unsigned.initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )

def answer(unsigned, pool, username, name, session, code):
    return unsigned.respond_to_auth_challenge(
        ClientId=pool["client_id"],
        ChallengeName=name,
        Session=session,
        ChallengeResponses={"USERNAME": username, f"{name}_CODE": code},
    )

def enrol_with_token(idp, unsigned, pool, username):
    """Signs in, associates and verifies an authenticator; its secret."""
    access = password_auth(unsigned, pool, username)["AuthenticationResult"]["AccessToken"]
    secret = unsigned.associate_software_token(AccessToken=access)["SecretCode"]
    assert unsigned.verify_software_token(AccessToken=access, UserCode=code_at(secret, -1))["Status"] == "SUCCESS"
    return access, secret

# Matrix: MF-05
def test_pool_mfa_config_modes_and_refusals(idp, pool):
    got = idp.get_user_pool_mfa_config(UserPoolId=pool["id"])
    assert got["MfaConfiguration"] == "OFF" and "SoftwareTokenMfaConfiguration" not in got
    with pytest.raises(ClientError) as e:
        idp.set_user_pool_mfa_config(UserPoolId=pool["id"], MfaConfiguration="ON")
    assert error_code(e) == "InvalidParameterException" and "factor" in str(e.value)
    with pytest.raises(ClientError) as e:
        idp.set_user_pool_mfa_config(
            UserPoolId=pool["id"], MfaConfiguration="ON", SmsMfaConfiguration={"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::1:role/x"}}
        )
    assert error_code(e) == "InvalidParameterException" and "SMS" in str(e.value)
    with pytest.raises(ClientError) as e:
        idp.create_user_pool(PoolName=f"p-{uuid.uuid4().hex[:6]}", MfaConfiguration="OPTIONAL")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        mfa_pool(idp, pool, "ON", software_token=False, email={"Message": "no code here"})
    assert error_code(e) == "InvalidParameterException" and "{####}" in str(e.value)
    set_ = mfa_pool(idp, pool, "OPTIONAL")
    assert set_["MfaConfiguration"] == "OPTIONAL"
    assert set_["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]["MfaConfiguration"] == "OPTIONAL"
    # UpdateUserPool keeps the factors and may switch the mode (Terraform sends it).
    idp.update_user_pool(UserPoolId=pool["id"], MfaConfiguration="ON")
    assert idp.get_user_pool_mfa_config(UserPoolId=pool["id"])["MfaConfiguration"] == "ON"

# Matrix: MF-01
def test_optional_pool_totp_enrolment_preference_and_one_time_codes(idp, unsigned, pool):
    mfa_pool(idp, pool, "OPTIONAL")
    create_user(idp, pool, "tina")
    access = password_auth(unsigned, pool, "tina")["AuthenticationResult"]["AccessToken"]
    secret = unsigned.associate_software_token(AccessToken=access)["SecretCode"]
    assert len(secret) == 32
    with pytest.raises(ClientError) as e:
        unsigned.verify_software_token(AccessToken=access, UserCode="000000" if code_at(secret, 0) != "000000" else "111111")
    assert error_code(e) == "EnableSoftwareTokenMFAException"
    # Turning TOTP on before it is verified is refused.
    with pytest.raises(ClientError) as e:
        unsigned.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    assert error_code(e) == "InvalidParameterException"
    assert unsigned.verify_software_token(AccessToken=access, UserCode=code_at(secret, -1))["Status"] == "SUCCESS"
    # Verified but not turned on: an OPTIONAL pool signs in with the password alone.
    assert "AuthenticationResult" in password_auth(unsigned, pool, "tina")
    assert "UserMFASettingList" not in unsigned.get_user(AccessToken=access)
    unsigned.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    user = unsigned.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"] and user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    factors = idp.admin_get_user_auth_factors(UserPoolId=pool["id"], Username="tina")
    assert factors["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"] and factors["ConfiguredUserAuthFactors"] == ["PASSWORD"]
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="tina")["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    started = password_auth(unsigned, pool, "tina")
    assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" not in started
    assert started["ChallengeParameters"]["USER_ID_FOR_SRP"] == "tina"
    wrong = "123456" if code_at(secret, 0) != "123456" else "654321"
    with pytest.raises(ClientError) as e:
        answer(unsigned, pool, "tina", "SOFTWARE_TOKEN_MFA", started["Session"], wrong)
    assert error_code(e) == "CodeMismatchException"
    code = code_at(secret, 0)
    done = answer(unsigned, pool, "tina", "SOFTWARE_TOKEN_MFA", started["Session"], code)
    tokens = done["AuthenticationResult"]
    assert claims(tokens["IdToken"])["cognito:username"] == "tina" and tokens["RefreshToken"]
    # The same code again, in a new sign-in: used once already.
    again = password_auth(unsigned, pool, "tina")
    with pytest.raises(ClientError) as e:
        answer(unsigned, pool, "tina", "SOFTWARE_TOKEN_MFA", again["Session"], code)
    assert error_code(e) == "ExpiredCodeException"
    # An older step than the one used is refused as well; the next one signs in.
    with pytest.raises(ClientError) as e:
        answer(unsigned, pool, "tina", "SOFTWARE_TOKEN_MFA", again["Session"], code_at(secret, -1))
    assert error_code(e) == "ExpiredCodeException"
    assert "AuthenticationResult" in answer(unsigned, pool, "tina", "SOFTWARE_TOKEN_MFA", again["Session"], code_at(secret, 1))

    # An administrator deletes the lost authenticator: the password alone signs in again.
    idp.admin_delete_software_token(UserPoolId=pool["id"], Username="tina")
    assert "AuthenticationResult" in password_auth(unsigned, pool, "tina")
    assert "UserMFASettingList" not in idp.admin_get_user(UserPoolId=pool["id"], Username="tina")

# Matrix: MF-03
def test_on_pool_sets_up_an_authenticator_during_sign_in(idp, unsigned, pool):
    mfa_pool(idp, pool, "ON")
    create_user(idp, pool, "otto")
    started = password_auth(unsigned, pool, "otto")
    assert started["ChallengeName"] == "MFA_SETUP" and "AuthenticationResult" not in started
    assert started["ChallengeParameters"]["MFAS_CAN_SETUP"] == '["SOFTWARE_TOKEN_MFA"]'
    # The setup session cannot finish before a code proved the new authenticator.
    with pytest.raises(ClientError) as e:
        unsigned.respond_to_auth_challenge(
            ClientId=pool["client_id"], ChallengeName="MFA_SETUP", Session=started["Session"], ChallengeResponses={"USERNAME": "otto"}
        )
    assert error_code(e) == "NotAuthorizedException"
    associated = unsigned.associate_software_token(Session=started["Session"])
    secret = associated["SecretCode"]
    verified = unsigned.verify_software_token(Session=associated["Session"], UserCode=code_at(secret, -1))
    assert verified["Status"] == "SUCCESS"
    done = unsigned.respond_to_auth_challenge(
        ClientId=pool["client_id"], ChallengeName="MFA_SETUP", Session=verified["Session"], ChallengeResponses={"USERNAME": "otto"}
    )
    assert claims(done["AuthenticationResult"]["AccessToken"])["username"] == "otto"
    access = done["AuthenticationResult"]["AccessToken"]
    assert unsigned.get_user(AccessToken=access)["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    # The old setup session cannot replace the authenticator now in use (MF-04).
    with pytest.raises(ClientError) as e:
        unsigned.associate_software_token(Session=started["Session"])
    assert error_code(e) == "NotAuthorizedException"
    # A pool that requires MFA keeps one factor on.
    with pytest.raises(ClientError) as e:
        unsigned.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": False})
    assert error_code(e) == "InvalidParameterException"
    # Next sign-in: the code.
    again = password_auth(unsigned, pool, "otto")
    assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" in answer(unsigned, pool, "otto", "SOFTWARE_TOKEN_MFA", again["Session"], code_at(secret, 0))

def test_off_pool_ignores_enabled_factors(idp, unsigned, pool):
    mfa_pool(idp, pool, "OPTIONAL")
    create_user(idp, pool, "olga")
    access, _ = enrol_with_token(idp, unsigned, pool, "olga")
    unsigned.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    assert password_auth(unsigned, pool, "olga")["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    idp.set_user_pool_mfa_config(UserPoolId=pool["id"], MfaConfiguration="OFF", SoftwareTokenMfaConfiguration={"Enabled": True})
    assert "AuthenticationResult" in password_auth(unsigned, pool, "olga")

def test_srp_sign_in_with_totp_through_pycognito(idp, unsigned, pool):
    mfa_pool(idp, pool, "OPTIONAL")
    create_user(idp, pool, "sam")
    access, secret = enrol_with_token(idp, unsigned, pool, "sam")
    idp.admin_set_user_mfa_preference(
        UserPoolId=pool["id"], Username="sam", SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    srp = AWSSRP(username="sam", password=PASSWORD, pool_id=pool["id"], client_id=pool["client_id"], client=unsigned)
    with pytest.raises(SoftwareTokenMFAChallengeException) as e:
        srp.authenticate_user()
    session = e.value.get_tokens()["Session"]
    done = answer(unsigned, pool, "sam", "SOFTWARE_TOKEN_MFA", session, code_at(secret, 0))
    assert claims(done["AuthenticationResult"]["IdToken"])["cognito:username"] == "sam"

# Matrix: MF-02
def test_wrong_codes_are_throttled(idp, unsigned, pool):
    mfa_pool(idp, pool, "OPTIONAL")
    create_user(idp, pool, "bruno")
    access, secret = enrol_with_token(idp, unsigned, pool, "bruno")
    unsigned.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    session = password_auth(unsigned, pool, "bruno")["Session"]
    right = {code_at(secret, s) for s in (-1, 0, 1)}
    wrong = (f"{n:06d}" for n in range(1000) if f"{n:06d}" not in right)
    refusals = []
    for _ in range(5):
        with pytest.raises(ClientError) as e:
            answer(unsigned, pool, "bruno", "SOFTWARE_TOKEN_MFA", session, next(wrong))
        refusals.append(error_code(e))
    assert refusals == ["CodeMismatchException"] * 5, refusals
    # The fifth failure blocks the user for 2 s and each further one for twice as long
    # as the last: a slow machine may let the first block pass before the next attempt,
    # never all of the longer ones after it.
    for _ in range(4):
        with pytest.raises(ClientError) as e:
            answer(unsigned, pool, "bruno", "SOFTWARE_TOKEN_MFA", session, next(wrong))
        refusals.append(error_code(e))
        if refusals[-1] == "TooManyRequestsException":
            break
    assert refusals[-1] == "TooManyRequestsException", refusals
    assert set(refusals[5:-1]) <= {"CodeMismatchException"}, refusals
    wait = int(e.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"])
    assert wait > 0
    # The block is over after Retry-After, and the right code signs in.
    time.sleep(wait)
    assert "AuthenticationResult" in answer(unsigned, pool, "bruno", "SOFTWARE_TOKEN_MFA", session, code_at(secret, 0))


# Matrix: MF-04
# Matrix: MF-05
def test_challenge_sessions_answer_only_their_own_step(idp, unsigned, pool):
    mfa_pool(idp, pool, "OPTIONAL")
    create_user(idp, pool, "stella")
    access, secret = enrol_with_token(idp, unsigned, pool, "stella")
    unsigned.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    started = password_auth(unsigned, pool, "stella")
    session = started["Session"]
    for name, responses in [
        ("MFA_SETUP", {"USERNAME": "stella"}),
        ("NEW_PASSWORD_REQUIRED", {"USERNAME": "stella", "NEW_PASSWORD": "Another-pass-7"}),
        ("EMAIL_OTP", {"USERNAME": "stella", "EMAIL_OTP_CODE": "123456"}),
    ]:
        with pytest.raises(ClientError) as e:
            unsigned.respond_to_auth_challenge(ClientId=pool["client_id"], ChallengeName=name, Session=session, ChallengeResponses=responses)
        assert error_code(e) == "NotAuthorizedException", name
    # A session is not a refresh token, and no refresh token came before the code.
    with pytest.raises(ClientError) as e:
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": session})
    assert error_code(e) == "NotAuthorizedException"
    # Another user's name with this session is refused.
    create_user(idp, pool, "mallory")
    with pytest.raises(ClientError) as e:
        answer(unsigned, pool, "mallory", "SOFTWARE_TOKEN_MFA", session, code_at(secret, 0))
    assert error_code(e) == "NotAuthorizedException"
    # An enrolment session is refused for a user who already has a factor on.
    with pytest.raises(ClientError) as e:
        unsigned.associate_software_token(Session=session)
    assert error_code(e) == "NotAuthorizedException"

def test_email_otp_as_second_factor(server_env, idp, unsigned, pool):
    mfa_pool(idp, pool, "OPTIONAL", software_token=False, email={"Subject": "Sign-in code", "Message": "Your code for Acme is {####}."})
    email = f"eve-{uuid.uuid4().hex[:6]}@example.com"
    create_user(idp, pool, "eve", email=email, email_verified="true")
    create_user(idp, pool, "noemail")
    access = password_auth(unsigned, pool, "eve")["AuthenticationResult"]["AccessToken"]
    # SMS is refused with a clear error; e-mail needs a verified address.
    with pytest.raises(ClientError) as e:
        unsigned.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True})
    assert error_code(e) == "InvalidParameterException" and "SMS" in str(e.value)
    with pytest.raises(ClientError) as e:
        idp.admin_set_user_mfa_preference(UserPoolId=pool["id"], Username="noemail", EmailMfaSettings={"Enabled": True})
    assert error_code(e) == "InvalidParameterException"
    unsigned.set_user_mfa_preference(AccessToken=access, EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert unsigned.get_user_auth_factors(AccessToken=access)["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]

    started = password_auth(unsigned, pool, "eve")
    assert started["ChallengeName"] == "EMAIL_OTP"
    assert started["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert started["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "e***@e***"

    message = cognate_cli("outbox", "--to", email, "--limit", "1", env=server_env)[0]
    assert message["subject"] == "Sign-in code" and "Your code for Acme is" in message["body_text"]
    code = outbox_code(email, env=server_env)
    done = answer(unsigned, pool, "eve", "EMAIL_OTP", started["Session"], code)
    assert claims(done["AuthenticationResult"]["IdToken"])["email"] == email
    # Used up.
    with pytest.raises(ClientError) as e:
        answer(unsigned, pool, "eve", "EMAIL_OTP", started["Session"], code)
    assert error_code(e) == "CodeMismatchException"


def test_device_actions_say_devices_are_not_tracked(idp, unsigned, pool):
    create_user(idp, pool, "dora")
    access = password_auth(unsigned, pool, "dora")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as e:
        unsigned.list_devices(AccessToken=access)
    assert error_code(e) == "UnknownOperationException" and "devices" in str(e.value)
    with pytest.raises(ClientError) as e:
        idp.admin_list_devices(UserPoolId=pool["id"], Username="dora")
    assert error_code(e) == "UnknownOperationException" and "devices" in str(e.value)
