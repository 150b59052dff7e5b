"""Resource servers and custom scopes through boto3, and the client_credentials grant
they enable at /oauth2/token. Every response is also checked against botocore's output
shape (conftest)."""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

API = "https://api.example.com"
SCOPES = [
    {"ScopeName": "read", "ScopeDescription": "Read things"},
    {"ScopeName": "write", "ScopeDescription": "Write things"},
]


def new_pool(idp):
    return idp.create_user_pool(PoolName=f"rs-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]


def token_request(server, pool_id, client_id, secret, **form):
    """POSTs to the pool's token endpoint with Basic credentials: (status, JSON body)."""
    body = urllib.parse.urlencode({"grant_type": "client_credentials", **form}).encode()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    req = urllib.request.Request(
        f"{server}/{pool_id}/oauth2/token",
        data=body,
        headers={"content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {basic}"},
    )
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_resource_server_is_created_described_listed_updated_and_deleted(idp):
    pool_id = new_pool(idp)
    # Create
    created = idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="Example API", Scopes=SCOPES)
    assert created["ResourceServer"] == {"UserPoolId": pool_id, "Identifier": API, "Name": "Example API", "Scopes": SCOPES}
    # Describe
    described = idp.describe_resource_server(UserPoolId=pool_id, Identifier=API)["ResourceServer"]
    assert described["Scopes"] == SCOPES
    # List, in pages
    for i in range(3):
        idp.create_resource_server(UserPoolId=pool_id, Identifier=f"urn:api:{i}", Name=f"api {i}")
    first = idp.list_resource_servers(UserPoolId=pool_id, MaxResults=2)
    assert len(first["ResourceServers"]) == 2
    second = idp.list_resource_servers(UserPoolId=pool_id, MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in second
    identifiers = [s["Identifier"] for s in first["ResourceServers"] + second["ResourceServers"]]
    assert sorted(identifiers) == sorted([API, "urn:api:0", "urn:api:1", "urn:api:2"])
    # Update replaces the name and the scopes
    updated = idp.update_resource_server(
        UserPoolId=pool_id, Identifier=API, Name="Renamed", Scopes=SCOPES[:1]
    )["ResourceServer"]
    assert updated["Name"] == "Renamed"
    assert updated["Scopes"] == SCOPES[:1]
    # Delete
    idp.delete_resource_server(UserPoolId=pool_id, Identifier=API)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_resource_server(UserPoolId=pool_id, Identifier=API)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_resource_server(UserPoolId=pool_id, Identifier=API)


def test_bad_resource_servers_are_refused_and_change_nothing(idp):
    pool_id = new_pool(idp)
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="again")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_resource_server(
            UserPoolId=pool_id, Identifier="urn:dup", Name="dup", Scopes=[SCOPES[0], SCOPES[0]]
        )
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_resource_server(UserPoolId=pool_id, Identifier="urn:missing", Name="x")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.list_resource_servers(UserPoolId="us-east-1_doesnotexist")
    listed = idp.list_resource_servers(UserPoolId=pool_id, MaxResults=50)["ResourceServers"]
    assert [s["Identifier"] for s in listed] == [API]


def test_clients_may_be_allowed_only_scopes_that_exist(idp):
    pool_id = new_pool(idp)
    with pytest.raises(idp.exceptions.ScopeDoesNotExistException):
        idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="m2m",
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[f"{API}/read"],
        )
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES)
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="m2m",
        GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=[f"{API}/read"],
    )["UserPoolClient"]
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["AllowedOAuthScopes"] == [f"{API}/read"]


@pytest.mark.parametrize(
    "settings",
    [
        # no secret
        dict(AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=[f"{API}/read"]),
        # mixed with a user flow
        dict(GenerateSecret=True, AllowedOAuthFlows=["client_credentials", "code"], AllowedOAuthScopes=[f"{API}/read"]),
        # a user scope
        dict(GenerateSecret=True, AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["openid", f"{API}/read"]),
    ],
)
def test_client_credentials_needs_a_secret_and_custom_scopes_only(idp, settings):
    pool_id = new_pool(idp)
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES)
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="m2m", AllowedOAuthFlowsUserPoolClient=True, **settings
        )
    assert idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"] == []


# Matrix: TK-11
def test_a_client_credentials_token_is_one_access_token_for_the_client(idp, server):
    # Arrange
    pool_id = new_pool(idp)
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES)
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="m2m",
        GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=[f"{API}/read", f"{API}/write"],
    )["UserPoolClient"]
    # Act
    status, body = token_request(server, pool_id, client["ClientId"], client["ClientSecret"], scope=f"{API}/write")
    refused, error = token_request(server, pool_id, client["ClientId"], client["ClientSecret"], scope="openid")
    # Assert
    assert status == 200, body
    assert set(body) == {"access_token", "expires_in", "token_type"}
    c = claims(body["access_token"])
    assert (c["sub"], c["client_id"], c["token_use"], c["scope"]) == (
        client["ClientId"],
        client["ClientId"],
        "access",
        f"{API}/write",
    )
    assert refused == 400 and error["error"] == "invalid_scope"


def test_refresh_token_rotation_can_be_disabled(idp):
    pool_id = new_pool(idp)
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        RefreshTokenRotation={"Feature": "DISABLED", "RetryGracePeriodSeconds": 0},
    )["UserPoolClient"]
    assert client.get("RefreshTokenRotation", {"Feature": "DISABLED"})["Feature"] == "DISABLED"
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="confused",
            RefreshTokenRotation={"Feature": "DISABLED", "RetryGracePeriodSeconds": 30},
        )
    # Updating without it keeps Cognito's default, no rotation, reported by omission.
    updated = idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
    assert "RefreshTokenRotation" not in updated
