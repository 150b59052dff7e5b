"""Regressions for the outside probe's findings on attributes and refresh tokens
(docs/SECURITY_MATRIX.md §2.16): who may write which attribute, verification flags that
only a proof may set, and one refresh rule set for `/oauth2/token` and the API."""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from conftest import PASSWORD, advance_clock, create_user, make_client

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def attrs(user_attributes):
    return {a["Name"]: a["Value"] for a in user_attributes}


def as_list(mapping):
    return [{"Name": k, "Value": v} for k, v in mapping.items()]


@pytest.fixture
def schema_pool(idp):
    """A pool declaring `custom:team` (mutable) and `custom:tenant` (immutable), with a
    client that may write them and one that may write only `name`."""
    pool_id = idp.create_user_pool(
        PoolName=f"schema-{uuid.uuid4().hex[:8]}",
        Schema=[
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {"Name": "team", "AttributeDataType": "String", "Mutable": True},
            {"Name": "tenant", "AttributeDataType": "String", "Mutable": False},
        ],
    )["UserPool"]["Id"]
    wide = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="wide",
        ExplicitAuthFlows=FLOWS,
        WriteAttributes=["email", "name", "phone_number", "custom:team", "custom:tenant"],
    )["UserPoolClient"]["ClientId"]
    narrow = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="narrow", ExplicitAuthFlows=FLOWS, WriteAttributes=["name"]
    )["UserPoolClient"]["ClientId"]
    return {"id": pool_id, "wide": wide, "narrow": narrow}


def sign_in(unsigned, client_id, username):
    return unsigned.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]


def error_code(call):
    with pytest.raises(Exception) as err:
        call()
    return err.value.response["Error"]["Code"]


# Matrix: PR-01
def test_sign_up_writes_only_declared_attributes_the_client_may_write(idp, unsigned, schema_pool):
    def sign_up(client, username, **extra):
        return lambda: unsigned.sign_up(
            ClientId=schema_pool[client],
            Username=username,
            Password=PASSWORD,
            UserAttributes=as_list({"email": f"{username}@example.com", **extra}),
        )

    assert error_code(sign_up("wide", "eve1", **{"custom:is_admin": "1"})) == "InvalidParameterException"
    assert error_code(sign_up("narrow", "eve2", **{"custom:team": "red"})) == "NotAuthorizedException"
    # Nothing was created by either refusal.
    for username in ["eve1", "eve2"]:
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=schema_pool["id"], Username=username)
    # An immutable attribute may be set once, at creation.
    sign_up("wide", "ok1", **{"custom:tenant": "acme", "custom:team": "red"})()
    got = attrs(idp.admin_get_user(UserPoolId=schema_pool["id"], Username="ok1")["UserAttributes"])
    assert got["custom:tenant"] == "acme" and got["custom:team"] == "red"


# Matrix: PR-01
def test_a_users_own_token_cannot_escalate_through_custom_attributes(idp, unsigned, schema_pool):
    pool = {"id": schema_pool["id"]}
    create_user(idp, pool, "erin", email="erin@example.com", **{"custom:tenant": "acme", "custom:team": "red"})
    wide = sign_in(unsigned, schema_pool["wide"], "erin")
    narrow = sign_in(unsigned, schema_pool["narrow"], "erin")

    def update(tokens, **changes):
        return lambda: unsigned.update_user_attributes(AccessToken=tokens["AccessToken"], UserAttributes=as_list(changes))

    assert error_code(update(wide, **{"custom:is_admin": "1"})) == "InvalidParameterException"
    assert error_code(update(wide, **{"custom:tenant": "evil"})) == "InvalidParameterException"
    assert error_code(update(narrow, **{"custom:team": "admins"})) == "NotAuthorizedException"
    assert error_code(update(narrow, email="erin@evil.example")) == "NotAuthorizedException"
    # A refused request changes nothing, not even its allowed parts.
    assert error_code(update(wide, name="Erin", **{"custom:is_admin": "1"})) == "InvalidParameterException"
    # What the client may write is written.
    update(wide, **{"custom:team": "blue"})()
    update(narrow, name="Erin E.")()

    refreshed = unsigned.initiate_auth(
        ClientId=schema_pool["wide"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": wide["RefreshToken"]}
    )["AuthenticationResult"]
    id_claims = claims(refreshed["IdToken"])
    assert "custom:is_admin" not in id_claims
    assert id_claims["custom:tenant"] == "acme" and id_claims["custom:team"] == "blue"
    assert id_claims["name"] == "Erin E." and id_claims["email"] == "erin@example.com"


# Matrix: PR-01
def test_administrators_declare_before_they_write_and_never_change_an_immutable_value(idp, schema_pool):
    pool_id = schema_pool["id"]
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_create_user(
            UserPoolId=pool_id, Username="gil", MessageAction="SUPPRESS", UserAttributes=as_list({"custom:role": "x"})
        )
    idp.admin_create_user(
        UserPoolId=pool_id, Username="gil", MessageAction="SUPPRESS", UserAttributes=as_list({"custom:tenant": "acme"})
    )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="gil", UserAttributes=as_list({"custom:tenant": "x"}))
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="gil", UserAttributeNames=["custom:tenant"])
    # Declared later (AddCustomAttributes), the attribute can be written.
    idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[{"Name": "role", "AttributeDataType": "String"}])
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="gil", UserAttributes=as_list({"custom:role": "x"}))
    got = attrs(idp.admin_get_user(UserPoolId=pool_id, Username="gil")["UserAttributes"])
    assert got["custom:role"] == "x" and got["custom:tenant"] == "acme"
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[{"Name": "role", "AttributeDataType": "String"}])


# Matrix: PR-02
def test_sign_up_cannot_claim_a_verified_address_or_phone(idp, unsigned, schema_pool):
    for flag, extra in [("email_verified", {}), ("phone_number_verified", {"phone_number": "+15555550123"})]:
        username = f"claim-{flag}"
        with pytest.raises(unsigned.exceptions.NotAuthorizedException):
            unsigned.sign_up(
                ClientId=schema_pool["wide"],
                Username=username,
                Password=PASSWORD,
                UserAttributes=as_list({"email": f"{username}@example.com", flag: "true", **extra}),
            )
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=schema_pool["id"], Username=username)
    # A plain sign-up stays unverified until its code is confirmed.
    unsigned.sign_up(
        ClientId=schema_pool["wide"], Username="plain", Password=PASSWORD, UserAttributes=as_list({"email": "plain@example.com"})
    )
    got = attrs(idp.admin_get_user(UserPoolId=schema_pool["id"], Username="plain")["UserAttributes"])
    assert got.get("email_verified", "false") == "false"


# Matrix: PR-08
def test_a_new_phone_number_is_no_longer_verified(idp, unsigned, schema_pool):
    pool = {"id": schema_pool["id"]}
    create_user(
        idp, pool, "pat", email="pat@example.com", email_verified="true",
        phone_number="+15555550100", phone_number_verified="true",
    )
    tokens = sign_in(unsigned, schema_pool["wide"], "pat")
    # The same number again changes nothing.
    unsigned.update_user_attributes(AccessToken=tokens["AccessToken"], UserAttributes=as_list({"phone_number": "+15555550100"}))
    got = attrs(unsigned.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"])
    assert got["phone_number_verified"] == "true"
    unsigned.update_user_attributes(AccessToken=tokens["AccessToken"], UserAttributes=as_list({"phone_number": "+15555550199"}))
    got = attrs(unsigned.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"])
    assert got["phone_number"] == "+15555550199" and got["phone_number_verified"] == "false"
    assert got["email_verified"] == "true"
    # An administrator's change of number unverifies it too.
    idp.admin_update_user_attributes(UserPoolId=pool["id"], Username="pat", UserAttributes=as_list({"phone_number_verified": "true"}))
    idp.admin_update_user_attributes(UserPoolId=pool["id"], Username="pat", UserAttributes=as_list({"phone_number": "+15555550142"}))
    got = attrs(idp.admin_get_user(UserPoolId=pool["id"], Username="pat")["UserAttributes"])
    assert got["phone_number_verified"] == "false"


# ---- PR-09: one refresh rule set on both surfaces ----------------------------------


def oauth_refresh(url, pool_id, client_id, token):
    """`/oauth2/token` with grant_type=refresh_token for a public client: (status, body)."""
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}).encode()
    req = urllib.request.Request(f"{url}/{pool_id}/oauth2/token", data=body)
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def api_refresh(unsigned, client_id, token):
    """REFRESH_TOKEN_AUTH: the API's refresh for a client that does not rotate."""
    return unsigned.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
    )["AuthenticationResult"]


def api_rotate(unsigned, client_id, token):
    """GetTokensFromRefreshToken: the API's refresh for a client that rotates."""
    return unsigned.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)["AuthenticationResult"]


def refresh_pool(idp, rotation):
    """A pool with the user rita and a public client; `rotation` None leaves
    RefreshTokenRotation out (Cognito's default)."""
    pool_id = idp.create_user_pool(PoolName=f"refresh-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    extra = {}
    if rotation is not None:
        extra["RefreshTokenRotation"] = {"Feature": "ENABLED" if rotation else "DISABLED", "RetryGracePeriodSeconds": 0}
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=FLOWS, **extra
    )["UserPoolClient"]["ClientId"]
    create_user(idp, {"id": pool_id}, "rita")
    return pool_id, client_id


# Matrix: PR-09
def test_a_rotated_out_token_replayed_on_either_surface_revokes_the_sign_in(server, idp, unsigned):
    pool_id, client_id = refresh_pool(idp, rotation=True)
    reused = unsigned.exceptions.RefreshTokenReuseException
    revoked = unsigned.exceptions.NotAuthorizedException

    # Rotated at /oauth2/token, replayed through the API.
    first = sign_in(unsigned, client_id, "rita")["RefreshToken"]
    status, body = oauth_refresh(server, pool_id, client_id, first)
    assert status == 200 and body["refresh_token"] != first
    second = body["refresh_token"]
    with pytest.raises(reused):
        api_rotate(unsigned, client_id, first)
    status, body = oauth_refresh(server, pool_id, client_id, second)
    assert (status, body["error"]) == (400, "invalid_grant"), "the replay revoked the whole sign-in"

    # Rotated through the API, replayed at /oauth2/token.
    first = sign_in(unsigned, client_id, "rita")["RefreshToken"]
    second = api_rotate(unsigned, client_id, first)["RefreshToken"]
    assert second != first
    status, body = oauth_refresh(server, pool_id, client_id, first)
    assert (status, body["error"]) == (400, "invalid_grant")
    with pytest.raises(revoked):
        api_rotate(unsigned, client_id, second)

    # Replayed through the API twice: the API's own reuse detection.
    first = sign_in(unsigned, client_id, "rita")["RefreshToken"]
    second = api_rotate(unsigned, client_id, first)["RefreshToken"]
    with pytest.raises(reused):
        api_rotate(unsigned, client_id, first)
    with pytest.raises(revoked):
        api_rotate(unsigned, client_id, second)


# Matrix: PR-09
def test_a_rotating_client_refreshes_only_through_get_tokens_from_refresh_token(idp, unsigned):
    _, client_id = refresh_pool(idp, rotation=True)
    token = sign_in(unsigned, client_id, "rita")["RefreshToken"]
    # REFRESH_TOKEN_AUTH cannot hand back the new token: refused, as on Cognito, and
    # the token is not used up by the refusal.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException, match="GetTokensFromRefreshToken"):
        api_refresh(unsigned, client_id, token)
    assert api_rotate(unsigned, client_id, token)["RefreshToken"] != token


# Matrix: PR-09
def test_without_rotation_both_surfaces_keep_the_token_and_return_none(server, idp, unsigned):
    # Left out (Cognito's default) and turned off explicitly alike.
    for rotation in (None, False):
        pool_id, client_id = refresh_pool(idp, rotation=rotation)
        token = sign_in(unsigned, client_id, "rita")["RefreshToken"]
        for _ in range(2):
            assert "RefreshToken" not in api_refresh(unsigned, client_id, token)
            assert "RefreshToken" not in api_rotate(unsigned, client_id, token)
            status, body = oauth_refresh(server, pool_id, client_id, token)
            assert status == 200 and "refresh_token" not in body


# Matrix: PR-09
def test_both_surfaces_refuse_another_pools_client_and_a_revoked_sign_in(server, idp, unsigned):
    pool_id, client_id = refresh_pool(idp, rotation=True)
    other_pool, other_client = refresh_pool(idp, rotation=True)
    token = sign_in(unsigned, client_id, "rita")["RefreshToken"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        api_rotate(unsigned, other_client, token)
    status, body = oauth_refresh(server, other_pool, other_client, token)
    assert (status, body["error"]) == (400, "invalid_grant")
    # Another client's attempt did not burn the token.
    token = api_rotate(unsigned, client_id, token)["RefreshToken"]
    unsigned.revoke_token(Token=token, ClientId=client_id)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        api_rotate(unsigned, client_id, token)
    status, body = oauth_refresh(server, pool_id, client_id, token)
    assert (status, body["error"]) == (400, "invalid_grant")


# Matrix: PR-09
def test_both_surfaces_refuse_an_expired_sign_in(clock_server):
    url, _env = clock_server
    idp = make_client(url)
    unsigned = make_client(url, signature_version=__import__("botocore").UNSIGNED)
    pool_id, client_id = refresh_pool(idp, rotation=False)
    idp.update_user_pool_client(
        UserPoolId=pool_id,
        ClientId=client_id,
        ExplicitAuthFlows=FLOWS,
        RefreshTokenValidity=60,
        TokenValidityUnits={"RefreshToken": "minutes"},
        RefreshTokenRotation={"Feature": "DISABLED", "RetryGracePeriodSeconds": 0},
    )
    token = sign_in(unsigned, client_id, "rita")["RefreshToken"]
    api_refresh(unsigned, client_id, token)
    advance_clock(url, 3601)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        api_refresh(unsigned, client_id, token)
    status, body = oauth_refresh(url, pool_id, client_id, token)
    assert (status, body["error"]) == (400, "invalid_grant")
