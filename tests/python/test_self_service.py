"""A user's own account through boto3: DeleteUser and DeleteUserAttributes, with the
access token as the only credential, and Cognito's exceptions when they refuse."""
import uuid

import pytest

from conftest import PASSWORD, create_user


def sign_in(unsigned, pool, username):
    """The user's tokens from USER_PASSWORD_AUTH."""
    return unsigned.initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]


def attributes(unsigned, access):
    return {a["Name"]: a["Value"] for a in unsigned.get_user(AccessToken=access)["UserAttributes"]}


@pytest.fixture
def required_pool(idp):
    """A pool requiring `name` and declaring `custom:team`, with a public client that may
    write every attribute."""
    pool_id = idp.create_user_pool(
        PoolName=f"pool-{uuid.uuid4().hex[:8]}",
        Schema=[
            {"Name": "name", "AttributeDataType": "String", "Mutable": True, "Required": True},
            {"Name": "team", "AttributeDataType": "String", "Mutable": True},
        ],
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return {"id": pool_id, "client_id": client["ClientId"]}


def test_a_deleted_user_loses_their_tokens_and_their_account(idp, unsigned, pool):
    # Arrange
    create_user(idp, pool, "leaver", email="leaver@example.com")
    tokens = sign_in(unsigned, pool, "leaver")
    # Act
    unsigned.delete_user(AccessToken=tokens["AccessToken"])
    # Assert
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.get_user(AccessToken=tokens["AccessToken"])
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool["id"], Username="leaver")
    # The old token deletes nothing more.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.delete_user(AccessToken=tokens["AccessToken"])


def test_delete_user_refuses_a_token_that_is_not_valid(unsigned):
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.delete_user(AccessToken="not.a.token")


def test_a_user_deletes_their_own_custom_attribute(idp, unsigned, required_pool):
    # Arrange
    create_user(idp, required_pool, "keeper", name="Kim", **{"custom:team": "blue"})
    access = sign_in(unsigned, required_pool, "keeper")["AccessToken"]
    # Act
    unsigned.delete_user_attributes(AccessToken=access, UserAttributeNames=["custom:team"])
    # Assert
    left = attributes(unsigned, access)
    assert "custom:team" not in left
    assert left["name"] == "Kim"


def test_a_user_cannot_delete_a_required_or_unknown_attribute(idp, unsigned, required_pool):
    # Arrange
    create_user(idp, required_pool, "stayer", name="Sam", **{"custom:team": "red"})
    access = sign_in(unsigned, required_pool, "stayer")["AccessToken"]
    # Act / Assert: each refusal removes nothing, not even the deletable names beside it.
    refused = {
        ("custom:team", "name"): "required",
        ("custom:team", "custom:nope"): "schema",
        ("favourite_colour",): "unknown attribute",
    }
    for names, why in refused.items():
        with pytest.raises(unsigned.exceptions.InvalidParameterException, match=why):
            unsigned.delete_user_attributes(AccessToken=access, UserAttributeNames=list(names))
    left = attributes(unsigned, access)
    assert (left["name"], left["custom:team"]) == ("Sam", "red")


def test_a_user_cannot_delete_what_their_client_may_not_write(idp, unsigned, pool):
    # Arrange: a client that writes only `name`.
    narrow = idp.create_user_pool_client(
        UserPoolId=pool["id"],
        ClientName="narrow",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        WriteAttributes=["name"],
    )["UserPoolClient"]["ClientId"]
    create_user(idp, pool, "limited", **{"custom:team": "green"})
    access = sign_in(unsigned, {**pool, "client_id": narrow}, "limited")["AccessToken"]
    # Act / Assert
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.delete_user_attributes(AccessToken=access, UserAttributeNames=["custom:team"])
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.delete_user_attributes(AccessToken=access, UserAttributeNames=["email_verified"])
    got = idp.admin_get_user(UserPoolId=pool["id"], Username="limited")["UserAttributes"]
    assert {"Name": "custom:team", "Value": "green"} in got


def test_delete_user_attributes_refuses_without_a_valid_token(idp, unsigned, pool):
    # Arrange: a token that was valid until the user signed out everywhere.
    create_user(idp, pool, "signedout", **{"custom:team": "gold"})
    access = sign_in(unsigned, pool, "signedout")["AccessToken"]
    unsigned.global_sign_out(AccessToken=access)
    # Act / Assert
    for token in (access, "not.a.token"):
        with pytest.raises(unsigned.exceptions.NotAuthorizedException):
            unsigned.delete_user_attributes(AccessToken=token, UserAttributeNames=["custom:team"])
    got = idp.admin_get_user(UserPoolId=pool["id"], Username="signedout")["UserAttributes"]
    assert {"Name": "custom:team", "Value": "gold"} in got
