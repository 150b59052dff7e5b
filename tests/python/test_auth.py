"""Signing in and a user's own account through the Cognito API, with the SDKs people
already use: boto3 (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH,
NEW_PASSWORD_REQUIRED), pycognito (SRP), and the AWS CLI; plus SigV4 refusals."""
import base64
import datetime
import json
import os
import subprocess
import uuid

import botocore.auth
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP

from conftest import KEY_ID, PASSWORD, SECRET, create_user, make_client, outbox_code


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def admin_auth(idp, pool, username, password=PASSWORD):
    return idp.admin_initiate_auth(
        UserPoolId=pool["id"],
        ClientId=pool["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )


def test_admin_and_user_password_auth_issue_cognito_tokens(idp, unsigned, pool):
    create_user(idp, pool, "alice", email="alice@example.com")
    result = admin_auth(idp, pool, "alice")["AuthenticationResult"]
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600
    id_claims = claims(result["IdToken"])
    assert id_claims["cognito:username"] == "alice" and id_claims["token_use"] == "id"
    assert id_claims["aud"] == pool["client_id"] and id_claims["email"] == "alice@example.com"
    access = claims(result["AccessToken"])
    assert access["scope"] == "aws.cognito.signin.user.admin" and access["client_id"] == pool["client_id"]
    result = unsigned.initiate_auth(
        ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    assert claims(result["IdToken"])["sub"] == id_claims["sub"]


def test_pycognito_signs_in_with_srp(server, idp, unsigned, pool):
    create_user(idp, pool, "srp-user")
    tokens = AWSSRP(username="srp-user", password=PASSWORD, pool_id=pool["id"], client_id=pool["client_id"], client=unsigned).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["IdToken"])["cognito:username"] == "srp-user"
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        AWSSRP(username="srp-user", password="Wrong-pass-1", pool_id=pool["id"], client_id=pool["client_id"], client=unsigned).authenticate_user()


def test_pycognito_authenticate_verifies_the_tokens_with_current_pyjwt(server, idp, pool):
    # Cognito's API tokens carry no at_hash (only /oauth2/token's ID tokens do);
    # pycognito checks an at_hash against an access token it has not stored yet, so an
    # ID token with one fails Cognito.authenticate().
    create_user(idp, pool, "pyco")
    user = Cognito(
        pool["id"],
        pool["client_id"],
        username="pyco",
        boto3_client_kwargs={"endpoint_url": server, "aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET},
    )
    user.authenticate(password=PASSWORD)
    assert user.id_claims["cognito:username"] == "pyco" and "at_hash" not in user.id_claims
    assert user.access_claims["token_use"] == "access"
    first_access = user.access_token
    user.renew_access_token()
    assert user.access_token != first_access and user.id_claims["cognito:username"] == "pyco"
    # The issuer it checks is the pool's URL at the endpoint; another issuer fails.
    user.user_pool_id = pool["id"] + "x"
    with pytest.raises(Exception, match="could not be verified"):
        user.verify_tokens()


def test_a_group_change_shows_at_refresh_token_auth(idp, unsigned, pool):
    create_user(idp, pool, "bob")
    idp.create_group(UserPoolId=pool["id"], GroupName="admins")
    idp.admin_add_user_to_group(UserPoolId=pool["id"], Username="bob", GroupName="admins")
    result = admin_auth(idp, pool, "bob")["AuthenticationResult"]
    assert claims(result["IdToken"])["cognito:groups"] == ["admins"]
    idp.admin_remove_user_from_group(UserPoolId=pool["id"], Username="bob", GroupName="admins")
    refreshed = unsigned.initiate_auth(
        ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]}
    )["AuthenticationResult"]
    assert "cognito:groups" not in claims(refreshed["IdToken"])
    # Cognito's default client does not rotate: no new refresh token, the first stays.
    assert "RefreshToken" not in refreshed


# Matrix: HU-05
def test_wrong_password_and_unknown_user_are_both_not_authorized(idp, pool):
    create_user(idp, pool, "carol")
    for username, password in [("carol", "Wrong-pass-1"), ("nobody", PASSWORD)]:
        with pytest.raises(idp.exceptions.NotAuthorizedException) as err:
            admin_auth(idp, pool, username, password)
        assert err.value.response["Error"]["Message"] == "Incorrect username or password."


# Matrix: HU-07
def test_repeated_failures_are_throttled(idp, pool):
    create_user(idp, pool, "dan")
    for _ in range(5):
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            admin_auth(idp, pool, "dan", "Wrong-pass-1")
    # The fifth failure blocks the name for 2 s and each further one for twice as long
    # as the last: a slow machine may let the first block pass before the next attempt,
    # never all of the longer ones after it.
    for _ in range(4):
        try:
            admin_auth(idp, pool, "dan", "Wrong-pass-1")
        except idp.exceptions.NotAuthorizedException:
            continue
        except idp.exceptions.TooManyRequestsException as throttled:
            assert int(throttled.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) >= 1
            break
    else:
        pytest.fail("nine wrong passwords in a row were never throttled")


def test_sign_up_confirm_and_the_typed_exceptions(unsigned, pool):
    client_id = pool["client_id"]
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    out = unsigned.sign_up(ClientId=client_id, Username="erin", Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": email}])
    assert out["UserConfirmed"] is False and out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    with pytest.raises(unsigned.exceptions.UsernameExistsException):
        unsigned.sign_up(ClientId=client_id, Username="erin", Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": email}])
    with pytest.raises(unsigned.exceptions.InvalidPasswordException):
        unsigned.sign_up(ClientId=client_id, Username="weak", Password="short", UserAttributes=[{"Name": "email", "Value": email}])
    with pytest.raises(unsigned.exceptions.UserNotConfirmedException):
        unsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "erin", "PASSWORD": PASSWORD})
    code = outbox_code(email)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(unsigned.exceptions.CodeMismatchException):
        unsigned.confirm_sign_up(ClientId=client_id, Username="erin", ConfirmationCode=wrong)
    unsigned.confirm_sign_up(ClientId=client_id, Username="erin", ConfirmationCode=code)
    unsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "erin", "PASSWORD": PASSWORD})


def test_forgot_password_through_the_api(unsigned, idp, pool):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    create_user(idp, pool, "fay", email=email, email_verified="true")
    unsigned.forgot_password(ClientId=pool["client_id"], Username="fay")
    new = "Brand-new-pass-7"
    unsigned.confirm_forgot_password(ClientId=pool["client_id"], Username="fay", ConfirmationCode=outbox_code(email), Password=new)
    admin_auth(idp, pool, "fay", new)


def test_a_temporary_password_leads_to_new_password_required(idp, unsigned, pool):
    idp.admin_create_user(UserPoolId=pool["id"], Username="gus", TemporaryPassword="Temp-pass-123", MessageAction="SUPPRESS")
    challenge = unsigned.initiate_auth(
        ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "gus", "PASSWORD": "Temp-pass-123"}
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = unsigned.respond_to_auth_challenge(
        ClientId=pool["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "gus", "NEW_PASSWORD": "Chosen-pass-123"},
    )
    assert claims(done["AuthenticationResult"]["IdToken"])["cognito:username"] == "gus"


def test_a_users_own_account_by_access_token(idp, unsigned, pool):
    create_user(idp, pool, "hal", email="hal@example.com")
    tokens = admin_auth(idp, pool, "hal")["AuthenticationResult"]
    access = tokens["AccessToken"]
    me = unsigned.get_user(AccessToken=access)
    assert me["Username"] == "hal" and {"Name": "email", "Value": "hal@example.com"} in me["UserAttributes"]
    unsigned.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "name", "Value": "Hal"}])
    assert {"Name": "name", "Value": "Hal"} in unsigned.get_user(AccessToken=access)["UserAttributes"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.change_password(AccessToken=access, PreviousPassword="Wrong-pass-1", ProposedPassword="Another-pass-9")
    unsigned.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="Another-pass-9")
    unsigned.global_sign_out(AccessToken=access)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.get_user(AccessToken=access)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})


def test_revoke_token_ends_refresh(idp, unsigned, pool):
    create_user(idp, pool, "ivy")
    tokens = admin_auth(idp, pool, "ivy")["AuthenticationResult"]
    unsigned.revoke_token(Token=tokens["RefreshToken"], ClientId=pool["client_id"])
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})


def test_a_flow_the_client_does_not_allow_is_refused(idp, unsigned):
    pool_id = idp.create_user_pool(PoolName="strict")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="srp-only", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"])["UserPoolClient"]["ClientId"]
    with pytest.raises(unsigned.exceptions.InvalidParameterException):
        unsigned.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "x", "PASSWORD": PASSWORD})


def test_secret_hash_is_required_for_a_client_with_a_secret(idp, unsigned):
    import hashlib
    import hmac

    pool_id = idp.create_user_pool(PoolName="secret")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="conf", GenerateSecret=True, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]
    create_user(idp, {"id": pool_id}, "jo")
    params = {"USERNAME": "jo", "PASSWORD": PASSWORD}
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)
    digest = hmac.new(client["ClientSecret"].encode(), ("jo" + client["ClientId"]).encode(), hashlib.sha256).digest()
    params["SECRET_HASH"] = base64.b64encode(digest).decode()
    unsigned.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)


# Matrix: SV-01, SV-02, SV-03
def test_admin_actions_need_a_valid_signature(server, pool, unsigned, monkeypatch):
    def code(client):
        with pytest.raises(ClientError) as err:
            client.list_users(UserPoolId=pool["id"])
        return err.value.response["Error"]["Code"]

    assert code(unsigned) == "MissingAuthenticationTokenException"
    assert code(make_client(server, secret="not-the-secret")) == "InvalidSignatureException"
    assert code(make_client(server, key_id="AKIDUNKNOWN")) == "UnrecognizedClientException"
    ten_minutes_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: ten_minutes_ago)
    assert code(make_client(server)) == "InvalidSignatureException"


def test_unknown_actions_are_named(server):
    import urllib.error
    import urllib.request

    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = AWSRequest(
        method="POST",
        url=server + "/",
        data=b"{}",
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.NoSuchThing"},
    )
    botocore.auth.SigV4Auth(Credentials(KEY_ID, SECRET), "cognito-idp", "us-east-1").add_auth(signed)
    req = urllib.request.Request(server + "/", data=b"{}", headers=dict(signed.headers.items()))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    body = json.loads(err.value.read())
    assert body["__type"] == "UnknownOperationException" and "NoSuchThing" in body["message"]


# Matrix: SV-06
def test_the_aws_cli_lists_users(server, idp, pool):
    create_user(idp, pool, "kim")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1")
    aws = os.path.join(os.path.dirname(os.path.realpath(os.sys.executable)), "aws")
    out = subprocess.run(
        [aws, "cognito-idp", "list-users", "--user-pool-id", pool["id"], "--endpoint-url", server],
        env=env, capture_output=True, text=True, check=True,
    )
    assert [u["Username"] for u in json.loads(out.stdout)["Users"]] == ["kim"]
