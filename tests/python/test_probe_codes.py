"""Regressions for the second probe's findings on addresses and codes
(docs/SECURITY_MATRIX.md §2.17, PS-02): a password reset goes only to a verified address,
so a stolen access token cannot point the account at another mailbox and reset it; a
changed address is verified with GetUserAttributeVerificationCode and VerifyUserAttribute
(codes bound to the address they went to, attempts limited like every code); and no
writer stores an address a mail header could read as more than one."""
import uuid

import pytest

from conftest import PASSWORD, cognate, cognate_cli, create_user, outbox_code

NEW_PASSWORD = "Brand-new-pass-7"
HEADER_BREAK = "a@b.co\r\nBcc: x@y.z"


def attrs(user_attributes):
    return {a["Name"]: a["Value"] for a in user_attributes}


def fresh_email(tag):
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


def sign_in(unsigned, pool, username, password=PASSWORD):
    return unsigned.initiate_auth(
        ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]


def messages(email, kind=None):
    """The messages sent to `email` (of `kind`, if given), newest first."""
    return [m for m in cognate_cli("outbox", "--to", email, "--limit", "50") if kind in (None, m["kind"])]


def error_code(call):
    with pytest.raises(Exception) as err:
        call()
    return err.value.response["Error"]["Code"]


def user_attributes(idp, pool, username):
    return attrs(idp.admin_get_user(UserPoolId=pool["id"], Username=username)["UserAttributes"])


def verified_user(idp, pool, username):
    """A confirmed user with a verified address; the address."""
    email = fresh_email(username)
    create_user(idp, pool, username, email=email, email_verified="true")
    return email


def wrong(code, i=0):
    return f"{(int(code) + 1 + i) % 1_000_000:06d}"


# Matrix: PS-02
def test_a_stolen_token_cannot_send_a_reset_code_to_a_new_address(idp, unsigned, pool):
    victim = verified_user(idp, pool, "vic")
    attacker = fresh_email("attacker")
    token = sign_in(unsigned, pool, "vic")["AccessToken"]
    # The token changes the address: it is now the account's, unverified, and is sent a
    # code to verify it (which the attacker can read, but which resets nothing).
    out = unsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": attacker}])
    assert out["CodeDeliveryDetailsList"] == [
        {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    assert [m["kind"] for m in messages(attacker)] == ["verification"]
    assert user_attributes(idp, pool, "vic")["email_verified"] == "false"
    # ForgotPassword answers exactly as for an unknown name, and sends nothing.
    reset = unsigned.forgot_password(ClientId=pool["client_id"], Username="vic")
    unknown = unsigned.forgot_password(ClientId=pool["client_id"], Username=f"nobody-{uuid.uuid4().hex[:6]}")
    assert reset["CodeDeliveryDetails"] == unknown["CodeDeliveryDetails"]
    assert messages(attacker, "reset") == [] and messages(victim, "reset") == []
    # The verification code the attacker received is no reset code.
    code = outbox_code(attacker)
    assert error_code(lambda: unsigned.confirm_forgot_password(
        ClientId=pool["client_id"], Username="vic", ConfirmationCode=code, Password=NEW_PASSWORD
    )) == "CodeMismatchException"
    # The password is unchanged: the old one still signs in.
    sign_in(unsigned, pool, "vic")
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        sign_in(unsigned, pool, "vic", NEW_PASSWORD)


# Matrix: PS-02
def test_without_prevent_user_existence_errors_an_unverified_address_is_named(idp, unsigned, pool, server_env):
    cognate(server_env, "pool", "update", "--pool", pool["id"], "--prevent-user-existence-errors", "false")
    create_user(idp, pool, "una", email=fresh_email("una"))
    with pytest.raises(unsigned.exceptions.InvalidParameterException, match="no registered/verified email"):
        unsigned.forgot_password(ClientId=pool["client_id"], Username="una")


# Matrix: PS-02
def test_an_administrator_reset_needs_a_verified_address_too(idp, pool):
    email = fresh_email("ada")
    create_user(idp, pool, "ada", email=email)
    with pytest.raises(idp.exceptions.InvalidParameterException, match="no registered/verified email"):
        idp.admin_reset_user_password(UserPoolId=pool["id"], Username="ada")
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="ada")["UserStatus"] == "CONFIRMED"
    assert messages(email) == []


# Matrix: PS-02
def test_a_verified_new_address_receives_the_reset(idp, unsigned, pool):
    verified_user(idp, pool, "moe")
    new = fresh_email("moe-new")
    token = sign_in(unsigned, pool, "moe")["AccessToken"]
    unsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": new}])
    # Ask again: a new code replaces the one sent with the change.
    first = outbox_code(new)
    out = unsigned.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    assert out["CodeDeliveryDetails"] == {"Destination": "m***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    code = outbox_code(new)
    assert len(messages(new, "verification")) == 2
    if first != code:
        assert error_code(lambda: unsigned.verify_user_attribute(
            AccessToken=token, AttributeName="email", Code=first)) == "CodeMismatchException"
    assert unsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)["ResponseMetadata"]
    got = attrs(unsigned.get_user(AccessToken=token)["UserAttributes"])
    assert got["email"] == new and got["email_verified"] == "true"
    # The code is used up.
    assert error_code(lambda: unsigned.verify_user_attribute(
        AccessToken=token, AttributeName="email", Code=code)) == "CodeMismatchException"
    # Now the reset goes to the verified new address, and works.
    unsigned.forgot_password(ClientId=pool["client_id"], Username="moe")
    assert len(messages(new, "reset")) == 1
    unsigned.confirm_forgot_password(
        ClientId=pool["client_id"], Username="moe", ConfirmationCode=outbox_code(new), Password=NEW_PASSWORD
    )
    sign_in(unsigned, pool, "moe", NEW_PASSWORD)


# Matrix: PS-02
def test_wrong_verification_codes_are_limited_like_every_code(idp, unsigned, pool):
    verified_user(idp, pool, "lim")
    new = fresh_email("lim-new")
    token = sign_in(unsigned, pool, "lim")["AccessToken"]
    unsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": new}])
    code = outbox_code(new)

    def verify(c):
        return error_code(lambda: unsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=c))

    assert [verify(wrong(code, i)) for i in range(5)] == ["CodeMismatchException"] * 4 + ["LimitExceededException"]
    # The right code, now, is refused too: the code is dead.
    assert verify(code) == "LimitExceededException"
    assert user_attributes(idp, pool, "lim")["email_verified"] == "false"
    # A new code starts afresh.
    unsigned.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    unsigned.verify_user_attribute(AccessToken=token, AttributeName="email", Code=outbox_code(new))
    assert user_attributes(idp, pool, "lim")["email_verified"] == "true"


# Matrix: PS-02
def test_a_verification_code_verifies_only_the_address_it_was_sent_to(idp, unsigned, pool):
    verified_user(idp, pool, "bo")
    mine, other = fresh_email("bo-mine"), fresh_email("bo-other")
    token = sign_in(unsigned, pool, "bo")["AccessToken"]
    unsigned.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": mine}])
    code = outbox_code(mine)
    # The address changes (an administrator's change sends no code) after the code went out.
    idp.admin_update_user_attributes(UserPoolId=pool["id"], Username="bo", UserAttributes=[{"Name": "email", "Value": other}])
    assert error_code(lambda: unsigned.verify_user_attribute(
        AccessToken=token, AttributeName="email", Code=code)) == "CodeMismatchException"
    got = user_attributes(idp, pool, "bo")
    assert got["email"] == other and got["email_verified"] == "false"
    # Only email is verified by code here (no SMS).
    assert error_code(lambda: unsigned.get_user_attribute_verification_code(
        AccessToken=token, AttributeName="phone_number")) == "InvalidParameterException"


# Matrix: PS-02
def test_an_address_with_a_header_break_is_refused_by_every_writer(idp, unsigned, pool):
    email = verified_user(idp, pool, "hb")
    token = sign_in(unsigned, pool, "hb")["AccessToken"]
    assert error_code(lambda: unsigned.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": HEADER_BREAK}])) == "InvalidParameterException"
    assert error_code(lambda: idp.admin_update_user_attributes(
        UserPoolId=pool["id"], Username="hb", UserAttributes=[{"Name": "email", "Value": HEADER_BREAK}]
    )) == "InvalidParameterException"
    assert error_code(lambda: idp.admin_create_user(
        UserPoolId=pool["id"], Username="hb2", UserAttributes=[{"Name": "email", "Value": HEADER_BREAK}],
        MessageAction="SUPPRESS")) == "InvalidParameterException"
    assert error_code(lambda: unsigned.sign_up(
        ClientId=pool["client_id"], Username="hb3", Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": HEADER_BREAK}])) == "InvalidParameterException"
    got = user_attributes(idp, pool, "hb")
    assert got["email"] == email and got["email_verified"] == "true"
    for name in ["hb2", "hb3"]:
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=pool["id"], Username=name)
    assert messages(HEADER_BREAK) == [] and messages("a@b.co") == []
