"""Cognito settings cognate honours rather than refuses (issue 15, "no silent drops"):
a client's ReadAttributes, AuthSessionValidity and EnableTokenRevocation, and a pool's
TemporaryPasswordValidityDays, PasswordHistorySize, AccountRecoverySetting,
AttributesRequireVerificationBeforeUpdate and developer-only custom attributes, each
through boto3 against a real server (the clock-moving ones on a server of their own)."""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import botocore
import pytest
from pycognito.aws_srp import AWSSRP

from conftest import PASSWORD, advance_clock, create_user, make_client, outbox_code

FLOWS = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
         "ALLOW_REFRESH_TOKEN_AUTH"]
TEAM = {"Name": "team", "AttributeDataType": "String", "Mutable": True}
SECRET_ATTRIBUTE = {"Name": "secret", "AttributeDataType": "String", "Mutable": True, "DeveloperOnlyAttribute": True}


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_pool(idp, **settings):
    """A pool declaring custom:team and the developer-only custom:secret."""
    return idp.create_user_pool(PoolName=unique("honour"), Schema=[TEAM, SECRET_ATTRIBUTE], **settings)["UserPool"]["Id"]


def new_client(idp, pool_id, **settings):
    return idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=FLOWS, **settings
    )["UserPoolClient"]["ClientId"]


def sign_in(unsigned, client_id, username, password=PASSWORD):
    return unsigned.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": password}
    )


def userinfo(url, pool_id, access_token):
    req = urllib.request.Request(f"{url}/{pool_id}/oauth2/userInfo",
                                 headers={"Authorization": f"Bearer {access_token}"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def user_attributes(listed):
    return {a["Name"]: a["Value"] for a in listed}


# ReadAttributes ------------------------------------------------------------------------

def test_a_client_reads_only_its_read_attributes_in_tokens_userinfo_and_get_user(server, idp, unsigned):
    pool_id = new_pool(idp)
    narrow = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="narrow", ExplicitAuthFlows=FLOWS,
        ReadAttributes=["email", "custom:team", "email_verified"],
    )["UserPoolClient"]
    # Echoed exactly as sent; a client that lists none reports none (Cognito's way).
    assert narrow["ReadAttributes"] == ["email", "custom:team", "email_verified"]
    wide = new_client(idp, pool_id)
    assert "ReadAttributes" not in idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=wide)["UserPoolClient"]
    create_user(idp, {"id": pool_id}, "reader", email="reader@example.com", name="Rea Der",
                **{"custom:team": "core", "custom:secret": "s3cret"})

    result = sign_in(unsigned, narrow["ClientId"], "reader")["AuthenticationResult"]
    id_claims = claims(result["IdToken"])
    assert id_claims["email"] == "reader@example.com" and id_claims["custom:team"] == "core"
    assert "name" not in id_claims and "custom:secret" not in id_claims
    got = user_attributes(unsigned.get_user(AccessToken=result["AccessToken"])["UserAttributes"])
    assert set(got) == {"sub", "email", "custom:team"}
    info = userinfo(server, pool_id, result["AccessToken"])
    assert info["email"] == "reader@example.com" and "name" not in info and "custom:secret" not in info

    # Listing none reads every attribute but the developer-only one.
    result = sign_in(unsigned, wide, "reader")["AuthenticationResult"]
    id_claims = claims(result["IdToken"])
    assert id_claims["name"] == "Rea Der" and id_claims["custom:team"] == "core"
    assert "custom:secret" not in id_claims
    got = user_attributes(unsigned.get_user(AccessToken=result["AccessToken"])["UserAttributes"])
    assert got["name"] == "Rea Der" and "custom:secret" not in got
    assert "custom:secret" not in userinfo(server, pool_id, result["AccessToken"])

    # Unknown names are refused.
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_client(idp, pool_id, ReadAttributes=["shoe_size"])


# Matrix: SV-07
def test_developer_only_attributes_are_written_and_read_by_administrators_alone(idp, unsigned):
    pool_id = new_pool(idp)
    client_id = new_client(idp, pool_id)
    create_user(idp, {"id": pool_id}, "dev", email="dev@example.com", **{"custom:secret": "one"})
    admin_view = idp.admin_get_user(UserPoolId=pool_id, Username="dev")["UserAttributes"]
    assert user_attributes(admin_view)["custom:secret"] == "one"
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="dev",
                                     UserAttributes=[{"Name": "custom:secret", "Value": "two"}])
    token = sign_in(unsigned, client_id, "dev")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "custom:secret", "Value": "3"}])
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.sign_up(ClientId=client_id, Username=unique("u"), Password=PASSWORD,
                         UserAttributes=[{"Name": "email", "Value": "x@example.com"},
                                         {"Name": "custom:secret", "Value": "mine"}])
    admin_view = idp.admin_get_user(UserPoolId=pool_id, Username="dev")["UserAttributes"]
    assert user_attributes(admin_view)["custom:secret"] == "two"


# AuthSessionValidity ---------------------------------------------------------------------

def test_the_challenge_session_lasts_the_clients_auth_session_validity(clock_server):
    url, _ = clock_server
    idp = make_client(url)
    unsigned = make_client(url, signature_version=botocore.UNSIGNED)
    pool_id = new_pool(idp)
    long_lived = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="ten", ExplicitAuthFlows=FLOWS,
                                             AuthSessionValidity=10)["UserPoolClient"]
    assert long_lived["AuthSessionValidity"] == 10
    default = new_client(idp, pool_id)
    unchecked = make_client(url, parameter_validation=False)  # botocore knows the bounds too
    for minutes in (2, 16):
        with pytest.raises(idp.exceptions.InvalidParameterException):
            new_client(unchecked, pool_id, AuthSessionValidity=minutes)
    for name in ("slow", "slower"):
        idp.admin_create_user(UserPoolId=pool_id, Username=name, TemporaryPassword="Temp-pass-123",
                              MessageAction="SUPPRESS")
    sessions = {
        client_id: sign_in(unsigned, client_id, name, "Temp-pass-123")["Session"]
        for client_id, name in ((long_lived["ClientId"], "slow"), (default, "slower"))
    }

    advance_clock(url, 5 * 60)

    def answer(client_id, name):
        return unsigned.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=sessions[client_id],
            ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": PASSWORD},
        )

    # Cognito's default of 3 minutes is over; the client that asked for 10 goes on.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        answer(default, "slower")
    assert "AccessToken" in answer(long_lived["ClientId"], "slow")["AuthenticationResult"]


# EnableTokenRevocation -------------------------------------------------------------------

def test_a_client_without_token_revocation_refuses_to_revoke_as_cognito_does(server, idp, unsigned):
    pool_id = new_pool(idp)
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="keep", ExplicitAuthFlows=FLOWS,
                                         EnableTokenRevocation=False)["UserPoolClient"]
    assert client["EnableTokenRevocation"] is False
    create_user(idp, {"id": pool_id}, "keeper")
    refresh = sign_in(unsigned, client["ClientId"], "keeper")["AuthenticationResult"]["RefreshToken"]
    with pytest.raises(unsigned.exceptions.UnsupportedOperationException):
        unsigned.revoke_token(Token=refresh, ClientId=client["ClientId"])
    form = urllib.parse.urlencode({"token": refresh, "client_id": client["ClientId"]}).encode()
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(f"{server}/{pool_id}/oauth2/revoke", data=form))
    assert e.value.code == 400 and json.load(e.value)["error"] == "invalid_request"
    # Nothing was revoked.
    unsigned.initiate_auth(ClientId=client["ClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                           AuthParameters={"REFRESH_TOKEN": refresh})
    # Turned back on, the same token can be revoked.
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"], ExplicitAuthFlows=FLOWS)
    unsigned.revoke_token(Token=refresh, ClientId=client["ClientId"])
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=client["ClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                               AuthParameters={"REFRESH_TOKEN": refresh})


# TemporaryPasswordValidityDays -------------------------------------------------------------

def test_an_expired_temporary_password_signs_in_by_no_path(clock_server):
    url, _ = clock_server
    idp = make_client(url)
    unsigned = make_client(url, signature_version=botocore.UNSIGNED)
    pool_id = new_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 8, "TemporaryPasswordValidityDays": 2}})
    client_id = new_client(idp, pool_id)
    for name in ("early", "late", "srp-late"):
        idp.admin_create_user(UserPoolId=pool_id, Username=name, TemporaryPassword="Temp-pass-123",
                              MessageAction="SUPPRESS")

    advance_clock(url, 86400)
    assert sign_in(unsigned, client_id, "early", "Temp-pass-123")["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    advance_clock(url, 86400)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        sign_in(unsigned, client_id, "late", "Temp-pass-123")
    assert e.value.response["Error"]["Message"] == \
        "Temporary password has expired and must be reset by an administrator."
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        AWSSRP(username="srp-late", password="Temp-pass-123", pool_id=pool_id, client_id=client_id,
               client=unsigned).authenticate_user()
    assert "Temporary password has expired" in e.value.response["Error"]["Message"]
    # A wrong password still says only that.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
        sign_in(unsigned, client_id, "late", "Wrong-pass-123")
    assert e.value.response["Error"]["Message"] == "Incorrect username or password."


def test_temporary_password_validity_days_of_zero_is_cognitos_default(idp):
    pool_id = new_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 8, "TemporaryPasswordValidityDays": 0}})
    policy = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Policies"]["PasswordPolicy"]
    assert policy["TemporaryPasswordValidityDays"] == 7


# PasswordHistorySize ---------------------------------------------------------------------

def test_a_new_password_may_not_repeat_the_last_password_history_size_ones(idp, unsigned):
    pool_id = new_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 2}})
    client_id = new_client(idp, pool_id)
    create_user(idp, {"id": pool_id}, "hist", password="First-pass-1")
    token = sign_in(unsigned, client_id, "hist", "First-pass-1")["AuthenticationResult"]["AccessToken"]

    def change(previous, proposed):
        unsigned.change_password(AccessToken=token, PreviousPassword=previous, ProposedPassword=proposed)

    with pytest.raises(unsigned.exceptions.PasswordHistoryPolicyViolationException):
        change("First-pass-1", "First-pass-1")
    change("First-pass-1", "Second-pass-2")
    with pytest.raises(unsigned.exceptions.PasswordHistoryPolicyViolationException):
        change("Second-pass-2", "First-pass-1")
    change("Second-pass-2", "Third-pass-3")
    # Two back is beyond a history of two (the current one counts).
    change("Third-pass-3", "First-pass-1")

    with pytest.raises(idp.exceptions.PasswordHistoryPolicyViolationException):
        idp.admin_set_user_password(UserPoolId=pool_id, Username="hist", Password="Third-pass-3", Permanent=True)
    # A temporary password is replaced at first use: not checked, but its answer is.
    idp.admin_set_user_password(UserPoolId=pool_id, Username="hist", Password="First-pass-1", Permanent=False)
    session = sign_in(unsigned, client_id, "hist", "First-pass-1")["Session"]
    with pytest.raises(unsigned.exceptions.PasswordHistoryPolicyViolationException):
        unsigned.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
            ChallengeResponses={"USERNAME": "hist", "NEW_PASSWORD": "First-pass-1"})
    unsigned.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
        ChallengeResponses={"USERNAME": "hist", "NEW_PASSWORD": "Fourth-pass-4"})


def test_a_reset_password_may_not_repeat_a_recent_one_and_the_code_survives_the_refusal(idp, unsigned):
    pool_id = new_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 3}})
    client_id = new_client(idp, pool_id)
    email = f"{unique('reset')}@example.com"
    create_user(idp, {"id": pool_id}, "resetter", email=email, email_verified="true")
    unsigned.forgot_password(ClientId=client_id, Username="resetter")
    code = outbox_code(email)
    with pytest.raises(unsigned.exceptions.PasswordHistoryPolicyViolationException):
        unsigned.confirm_forgot_password(ClientId=client_id, Username="resetter", ConfirmationCode=code,
                                         Password=PASSWORD)
    unsigned.confirm_forgot_password(ClientId=client_id, Username="resetter", ConfirmationCode=code,
                                     Password="Brand-new-pass-1")
    sign_in(unsigned, client_id, "resetter", "Brand-new-pass-1")


def test_without_a_password_history_a_password_may_be_set_again(idp, unsigned):
    pool_id = new_pool(idp)
    client_id = new_client(idp, pool_id)
    create_user(idp, {"id": pool_id}, "same")
    token = sign_in(unsigned, client_id, "same")["AuthenticationResult"]["AccessToken"]
    unsigned.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=PASSWORD)


# AccountRecoverySetting ------------------------------------------------------------------

# Matrix: HU-06
def test_admin_only_recovery_refuses_forgot_password_for_every_name(idp, unsigned):
    setting = {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]}
    pool_id = new_pool(idp, AccountRecoverySetting=setting)
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["AccountRecoverySetting"] == setting
    client_id = new_client(idp, pool_id)
    email = f"{unique('admin-only')}@example.com"
    create_user(idp, {"id": pool_id}, "locked", email=email, email_verified="true")
    for name in ("locked", "nobody-here"):
        with pytest.raises(unsigned.exceptions.NotAuthorizedException) as e:
            unsigned.forgot_password(ClientId=client_id, Username=name)
        assert e.value.response["Error"]["Message"] == "Contact administrator to reset password."
    # An administrator's reset still mails a code, which the user redeems.
    idp.admin_reset_user_password(UserPoolId=pool_id, Username="locked")
    unsigned.confirm_forgot_password(ClientId=client_id, Username="locked", ConfirmationCode=outbox_code(email),
                                     Password="Admin-reset-1")
    sign_in(unsigned, client_id, "locked", "Admin-reset-1")


def test_recovery_settings_cognate_cannot_follow_are_refused_by_name(idp):
    for mechanisms, named in (
        ([{"Priority": 1, "Name": "verified_phone_number"}, {"Priority": 2, "Name": "verified_email"}],
         "verified_phone_number"),
        ([{"Priority": 1, "Name": "admin_only"}, {"Priority": 2, "Name": "verified_email"}], "admin_only"),
    ):
        with pytest.raises(idp.exceptions.InvalidParameterException) as e:
            new_pool(idp, AccountRecoverySetting={"RecoveryMechanisms": mechanisms})
        assert named in str(e.value)
    # Email first, the phone second (never reached) is Cognito's common setting.
    new_pool(idp, AccountRecoverySetting={"RecoveryMechanisms": [
        {"Priority": 1, "Name": "verified_email"}, {"Priority": 2, "Name": "verified_phone_number"}]})


# AttributesRequireVerificationBeforeUpdate -------------------------------------------------

def test_a_changed_email_waits_for_verification_and_the_old_one_stays_in_force(idp, unsigned):
    pool_id = new_pool(idp, AutoVerifiedAttributes=["email"],
                       UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    client_id = new_client(idp, pool_id)
    old, new = f"{unique('old')}@example.com", f"{unique('new')}@example.com"
    create_user(idp, {"id": pool_id}, "mover", email=old, email_verified="true")
    token = sign_in(unsigned, client_id, "mover")["AuthenticationResult"]["AccessToken"]

    sent = unsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": new}])
    assert sent["CodeDeliveryDetailsList"][0]["Destination"].startswith(new[0])
    code = outbox_code(new)
    attributes = user_attributes(unsigned.get_user(AccessToken=token)["UserAttributes"])
    assert attributes["email"] == old and attributes["email_verified"] == "true"
    assert claims(sign_in(unsigned, client_id, "mover")["AuthenticationResult"]["IdToken"])["email"] == old
    # A reset goes to the address in force.
    unsigned.forgot_password(ClientId=client_id, Username="mover")
    outbox_code(old)

    unsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    attributes = user_attributes(unsigned.get_user(AccessToken=token)["UserAttributes"])
    assert attributes["email"] == new and attributes["email_verified"] == "true"


def test_an_administrator_changes_a_held_email_at_once_only_by_verifying_it(idp):
    pool_id = new_pool(idp, UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    old = f"{unique('old')}@example.com"
    create_user(idp, {"id": pool_id}, "managed", email=old, email_verified="true")

    def email():
        return user_attributes(idp.admin_get_user(UserPoolId=pool_id, Username="managed")["UserAttributes"])["email"]

    held = f"{unique('held')}@example.com"
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="managed",
                                     UserAttributes=[{"Name": "email", "Value": held}])
    assert email() == old
    outbox_code(held)  # the held address is sent a code to prove it
    now = f"{unique('now')}@example.com"
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="managed", UserAttributes=[
        {"Name": "email", "Value": now}, {"Name": "email_verified", "Value": "true"}])
    assert email() == now


def test_phone_numbers_cannot_wait_for_verification(idp):
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        new_pool(idp, UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["phone_number"]})
    assert "not supported" in str(e.value)
