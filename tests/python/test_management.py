"""The management actions through boto3: user pools, app clients, identity providers
and groups. The server is shared by the whole session, so every test makes its own
pools; every response is also checked against botocore's output shape (conftest).
"""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

GOOGLE_DETAILS = {
    "client_id": "google-client-id",
    "client_secret": "google-client-secret",
    "authorize_scopes": "openid email profile",
}


def new_pool(idp, **settings):
    return idp.create_user_pool(PoolName=f"mgmt-{uuid.uuid4().hex[:8]}", **settings)["UserPool"]


def list_all(call, items_key, size_key, size, **kwargs):
    """Every page of a list action, asserting each page's size and token."""
    pages, token = [], None
    while True:
        extra = {"NextToken": token} if token else {}
        page = call(**kwargs, **{size_key: size}, **extra)
        assert len(page[items_key]) <= size
        pages.append(page[items_key])
        token = page.get("NextToken")
        if not token:
            return pages


# ---- user pools -----------------------------------------------------------------


def test_a_pool_is_created_with_its_settings_and_described(idp):
    # Act
    created = new_pool(
        idp,
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireNumbers": True}},
        UsernameAttributes=["email"],
        Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True}],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        VerificationMessageTemplate={"EmailSubject": "Welcome", "EmailMessage": "Your code: {####}"},
        DeletionProtection="INACTIVE",
    )
    described = idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    # Assert
    assert created["Id"].startswith("us-east-1_")
    assert described["Arn"].endswith(f":userpool/{created['Id']}")
    assert described["Name"] == created["Name"]
    policy = described["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 12
    assert policy["RequireNumbers"] is True
    assert policy["RequireUppercase"] is False
    assert described["UsernameAttributes"] == ["email"]
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert described["VerificationMessageTemplate"]["EmailSubject"] == "Welcome"
    assert described["DeletionProtection"] == "INACTIVE"
    schema = {a["Name"]: a for a in described["SchemaAttributes"]}
    assert schema["email"]["Required"] is True
    assert schema["name"]["Required"] is False


def test_a_pool_made_without_settings_has_cognitos_defaults(idp):
    pool = new_pool(idp)
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 8
    assert all(policy[k] for k in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols"))
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert not any(a["Required"] for a in pool["SchemaAttributes"] if a["Name"] != "sub")
    assert pool["MfaConfiguration"] == "OFF"


def test_updating_a_pool_sets_what_is_sent_and_resets_what_is_not(idp):
    # Arrange
    pool = new_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 12}}, DeletionProtection="ACTIVE")
    # Act
    idp.update_user_pool(
        UserPoolId=pool["Id"],
        PoolName="renamed",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )
    described = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    # Assert
    assert described["Name"] == "renamed"
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert described["DeletionProtection"] == "INACTIVE"
    assert described["LastModifiedDate"] >= pool["LastModifiedDate"]


def test_a_deleted_pool_is_gone(idp):
    pool = new_pool(idp)
    idp.delete_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool(UserPoolId=pool["Id"])


def test_deletion_protection_keeps_a_pool_until_it_is_turned_off(idp):
    pool = new_pool(idp, DeletionProtection="ACTIVE")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.delete_user_pool(UserPoolId=pool["Id"])
    idp.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool["Id"])


def test_deleting_a_pool_takes_its_clients_groups_and_providers(idp):
    # Arrange
    pool = new_pool(idp)
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app")["UserPoolClient"]
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins")
    idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE_DETAILS
    )
    # Act
    idp.delete_user_pool(UserPoolId=pool["Id"])
    # Assert
    ids = [p["Id"] for page in list_all(idp.list_user_pools, "UserPools", "MaxResults", 60) for p in page]
    assert pool["Id"] not in ids
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_group(UserPoolId=pool["Id"], GroupName="admins")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_identity_provider(UserPoolId=pool["Id"], ProviderName="Google")


def test_list_user_pools_pages_through_every_pool_once(idp):
    # Arrange
    mine = {new_pool(idp)["Id"] for _ in range(5)}
    # Act
    pages = list_all(idp.list_user_pools, "UserPools", "MaxResults", 2)
    # Assert
    ids = [p["Id"] for page in pages for p in page]
    assert len(pages) >= 3
    assert len(ids) == len(set(ids))
    assert mine <= set(ids)
    paginated = idp.get_paginator("list_user_pools").paginate(MaxResults=2)
    assert mine <= {p["Id"] for page in paginated for p in page["UserPools"]}


def test_list_user_pools_refuses_bad_sizes_and_tokens(idp):
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_pools(MaxResults=61)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_pools(MaxResults=10, NextToken="not-a-token!")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_pools(MaxResults=10, NextToken=base64.urlsafe_b64encode(b"../etc").decode().rstrip("="))


def test_unknown_and_malformed_pool_ids_are_told_apart(idp):
    missing = "us-east-1_Nope12345"
    for call in (
        lambda: idp.describe_user_pool(UserPoolId=missing),
        lambda: idp.update_user_pool(UserPoolId=missing),
        lambda: idp.delete_user_pool(UserPoolId=missing),
        lambda: idp.create_user_pool_client(UserPoolId=missing, ClientName="app"),
        lambda: idp.list_user_pool_clients(UserPoolId=missing),
        lambda: idp.create_group(UserPoolId=missing, GroupName="g"),
        lambda: idp.list_groups(UserPoolId=missing),
        lambda: idp.list_identity_providers(UserPoolId=missing),
    ):
        with pytest.raises(idp.exceptions.ResourceNotFoundException):
            call()
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.describe_user_pool(UserPoolId="no-underscore")


def test_settings_cognate_cannot_honour_are_refused(idp):
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_pool(idp, AliasAttributes=["email"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_pool(idp, MfaConfiguration="ON")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_pool(idp, UsernameAttributes=["phone_number"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_pool(idp, Schema=[{"Name": "team", "AttributeDataType": "String", "Required": True}])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        new_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 100}})


# ---- app clients ----------------------------------------------------------------


def test_a_client_made_without_settings_has_cognitos_defaults(idp):
    pool = new_pool(idp)
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app")["UserPoolClient"]
    assert "ClientSecret" not in client
    # Cognito's defaults in Cognito's default units (hours, hours, days), which are
    # not reported as TokenValidityUnits since none were sent.
    assert client["AccessTokenValidity"] == 1
    assert client["IdTokenValidity"] == 1
    assert client["RefreshTokenValidity"] == 30
    assert "TokenValidityUnits" not in client
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert client["AllowedOAuthFlows"] == []
    assert "ALLOW_REFRESH_TOKEN_AUTH" in client["ExplicitAuthFlows"]


def test_a_generated_secret_is_described_again_and_works_at_the_token_endpoint(idp, server):
    # Arrange
    pool = new_pool(idp)
    created = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="backend",
        GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=["https://app.example.com/cb"],
    )["UserPoolClient"]
    client_id, secret = created["ClientId"], created["ClientSecret"]
    # Act
    described = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client_id)["UserPoolClient"]

    def token_error(password):
        body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": "bogus",
                                       "redirect_uri": "https://app.example.com/cb"}).encode()
        req = urllib.request.Request(f"{server}/{pool['Id']}/oauth2/token", data=body)
        basic = base64.b64encode(f"{client_id}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {basic}")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        return json.loads(err.value.read())["error"]

    # Assert
    assert described["ClientSecret"] == secret
    assert len(secret) >= 24
    assert token_error(secret) == "invalid_grant"
    assert token_error(secret + "x") == "invalid_client"


def test_a_chosen_secret_is_kept_and_cannot_be_combined_with_generate_secret(idp):
    pool = new_pool(idp)
    chosen = "s3cret_" + "x" * 30
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="moved", ClientSecret=chosen)[
        "UserPoolClient"
    ]
    assert client["ClientSecret"] == chosen
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="x", GenerateSecret=True, ClientSecret=chosen)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="x", ClientSecret="not allowed: spaces and !" + "x" * 10)


def test_token_validities_come_back_in_their_units_and_set_the_tokens_lifetimes(idp):
    # Arrange
    pool = new_pool(idp)
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="app",
        AccessTokenValidity=30,
        IdTokenValidity=2,
        RefreshTokenValidity=7,
        TokenValidityUnits={"AccessToken": "minutes", "RefreshToken": "days"},
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool["Id"], Username="val", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool["Id"], Username="val", Password="Correct-horse-9", Permanent=True)
    # Act
    tokens = idp.admin_initiate_auth(
        UserPoolId=pool["Id"], ClientId=client["ClientId"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "val", "PASSWORD": "Correct-horse-9"},
    )["AuthenticationResult"]
    # Assert: reported as sent (an unsent unit is Cognito's default, hours)...
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (30, 2, 7)
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"}
    # ...and in force in those units.
    def lifetime(jwt):
        payload = jwt.split(".")[1]
        c = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return c["exp"] - c["iat"]
    assert lifetime(tokens["AccessToken"]) == 30 * 60
    assert lifetime(tokens["IdToken"]) == 2 * 3600
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app", AccessTokenValidity=2,
                                    TokenValidityUnits={"AccessToken": "days"})


def test_an_oauth_client_keeps_its_urls_flows_scopes_and_providers(idp):
    # Arrange
    pool = new_pool(idp)
    idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE_DETAILS
    )
    # Act
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="web",
        CallbackURLs=["https://app.example.com/cb", "http://localhost:3000/cb"],
        LogoutURLs=["https://app.example.com/bye"],
        DefaultRedirectURI="https://app.example.com/cb",
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "aws.cognito.signin.user.admin"],
        SupportedIdentityProviders=["COGNITO", "Google"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        WriteAttributes=["email", "custom:team"],
    )["UserPoolClient"]
    # Assert
    assert client["CallbackURLs"] == ["https://app.example.com/cb", "http://localhost:3000/cb"]
    assert client["LogoutURLs"] == ["https://app.example.com/bye"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "aws.cognito.signin.user.admin"]
    assert client["SupportedIdentityProviders"] == ["COGNITO", "Google"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["WriteAttributes"] == ["email", "custom:team"]


def test_oauth_settings_cognito_refuses_are_refused(idp):
    pool = new_pool(idp)
    base = {"UserPoolId": pool["Id"], "ClientName": "app", "CallbackURLs": ["https://app.example.com/cb"]}
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(**base, AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"])
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        idp.create_user_pool_client(**base, AllowedOAuthFlowsUserPoolClient=True,
                                    AllowedOAuthFlows=["client_credentials"], GenerateSecret=True)
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        idp.create_user_pool_client(**base, AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid"])
    with pytest.raises(idp.exceptions.ScopeDoesNotExistException):
        idp.create_user_pool_client(**base, AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
                                    AllowedOAuthScopes=["orders/read"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(**base, SupportedIdentityProviders=["Facebook"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(**base, DefaultRedirectURI="https://elsewhere.example.com/cb")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(**base, ExplicitAuthFlows=["ALLOW_NOTHING"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app", CallbackURLs=["https://x.example/#frag"])


def test_updating_a_client_resets_omitted_settings_and_keeps_its_secret(idp):
    # Arrange
    pool = new_pool(idp)
    created = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="app",
        GenerateSecret=True,
        AccessTokenValidity=2,
        CallbackURLs=["https://app.example.com/cb"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
    )["UserPoolClient"]
    # Act
    updated = idp.update_user_pool_client(
        UserPoolId=pool["Id"], ClientId=created["ClientId"], RefreshTokenValidity=10
    )["UserPoolClient"]
    described = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=created["ClientId"])["UserPoolClient"]
    # Assert
    assert updated == described
    assert described["ClientName"] == "app"
    assert described["ClientSecret"] == created["ClientSecret"]
    assert described["AccessTokenValidity"] == 1  # hours: Cognito's default
    assert described["RefreshTokenValidity"] == 10
    assert described["CallbackURLs"] == []
    assert described["AllowedOAuthFlowsUserPoolClient"] is False
    renamed = idp.update_user_pool_client(UserPoolId=pool["Id"], ClientId=created["ClientId"], ClientName="renamed")
    assert renamed["UserPoolClient"]["ClientName"] == "renamed"


def test_list_user_pool_clients_pages_through_every_client(idp):
    pool = new_pool(idp)
    made = {
        idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName=f"app-{i}")["UserPoolClient"]["ClientId"]
        for i in range(5)
    }
    pages = list_all(idp.list_user_pool_clients, "UserPoolClients", "MaxResults", 2, UserPoolId=pool["Id"])
    listed = [c["ClientId"] for page in pages for c in page]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(listed) == sorted(made)
    assert all(c["UserPoolId"] == pool["Id"] for page in pages for c in page)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_pool_clients(UserPoolId=pool["Id"], NextToken="@@@")



def test_a_page_token_is_refused_by_every_other_listing(idp):
    # Arrange: a token from pool A's client listing; pool B has clients, and pool A
    # groups, that the key inside it would page into.
    a, b = new_pool(idp), new_pool(idp)
    for pool in (a, b):
        for i in range(3):
            idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName=f"app-{i}")
    for name in ("a", "z"):
        idp.create_group(UserPoolId=a["Id"], GroupName=name)
    token = idp.list_user_pool_clients(UserPoolId=a["Id"], MaxResults=1)["NextToken"]
    # Act / Assert: another pool, and every other action, refuse it...
    others = [
        lambda: idp.list_user_pool_clients(UserPoolId=b["Id"], MaxResults=1, NextToken=token),
        lambda: idp.list_groups(UserPoolId=a["Id"], NextToken=token),
        lambda: idp.list_identity_providers(UserPoolId=a["Id"], NextToken=token),
        lambda: idp.list_resource_servers(UserPoolId=a["Id"], MaxResults=1, NextToken=token),
        lambda: idp.list_user_pools(MaxResults=1, NextToken=token),
        lambda: idp.list_users(UserPoolId=a["Id"], PaginationToken=token),
    ]
    for call in others:
        with pytest.raises(idp.exceptions.InvalidParameterException):
            call()
    # ...while the listing it came from continues with it.
    second = idp.list_user_pool_clients(UserPoolId=a["Id"], MaxResults=1, NextToken=token)
    assert len(second["UserPoolClients"]) == 1

def test_a_deleted_client_is_gone(idp):
    pool = new_pool(idp)
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app")["UserPoolClient"]
    idp.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    assert idp.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"] == []


# ---- identity providers -----------------------------------------------------------


def test_a_provider_is_created_and_described_without_its_secret(idp):
    # Arrange
    pool = new_pool(idp)
    # Act
    created = idp.create_identity_provider(
        UserPoolId=pool["Id"],
        ProviderName="Google",
        ProviderType="Google",
        ProviderDetails=GOOGLE_DETAILS,
        AttributeMapping={"email": "email", "username": "sub"},
        IdpIdentifiers=["example.com"],
    )["IdentityProvider"]
    described = idp.describe_identity_provider(UserPoolId=pool["Id"], ProviderName="Google")["IdentityProvider"]
    # Assert
    assert created == described
    assert described["ProviderType"] == "Google"
    assert described["ProviderDetails"]["client_id"] == "google-client-id"
    assert described["ProviderDetails"]["authorize_scopes"] == "openid email profile"
    assert "client_secret" not in described["ProviderDetails"]
    assert described["AttributeMapping"] == {"email": "email", "username": "sub"}
    assert described["IdpIdentifiers"] == ["example.com"]


def test_an_oidc_provider_keeps_its_endpoints(idp):
    pool = new_pool(idp)
    details = {
        "client_id": "cid",
        "client_secret": "csecret",
        "authorize_scopes": "openid email",
        "oidc_issuer": "https://login.example.com",
        "authorize_url": "https://login.example.com/authorize",
        "token_url": "https://login.example.com/token",
        "attributes_url": "https://login.example.com/userinfo",
        "jwks_uri": "https://login.example.com/jwks",
        "attributes_request_method": "GET",
    }
    created = idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Corp", ProviderType="OIDC", ProviderDetails=details
    )["IdentityProvider"]
    for key in ("oidc_issuer", "authorize_url", "token_url", "attributes_url", "jwks_uri"):
        assert created["ProviderDetails"][key] == details[key]
    assert created["AttributeMapping"]["username"] == "sub"


def test_provider_names_types_and_details_are_checked(idp):
    pool = new_pool(idp)
    idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE_DETAILS
    )
    with pytest.raises(idp.exceptions.DuplicateProviderException):
        idp.create_identity_provider(
            UserPoolId=pool["Id"], ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE_DETAILS
        )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_identity_provider(
            UserPoolId=pool["Id"], ProviderName="Corp", ProviderType="SAML", ProviderDetails={"MetadataURL": "x"}
        )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_identity_provider(
            UserPoolId=pool["Id"], ProviderName="Corp", ProviderType="OIDC", ProviderDetails={"client_id": "x"}
        )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_identity_provider(
            UserPoolId=pool["Id"], ProviderName="Facebook", ProviderType="Facebook",
            ProviderDetails={**GOOGLE_DETAILS, "unheard_of": "1"},
        )


# A P-256 key made for this test; it authenticates to nothing.
APPLE_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzXX1skfeD4aO28LD
7DxAPDnUcKZIhVOT0z3/6N0wtBChRANCAAQ6INCuIZ4qhklNafFVbj5u9VzcKL0t
grVXn3+1c3/vSX4b2VFj9kyMFrlW1mtet2NIbpl3wJoMwcGYfS59O4lW
-----END PRIVATE KEY-----
"""


# Matrix: FD-08
def test_a_sign_in_with_apple_provider_needs_its_team_key_and_never_shows_it(idp):
    pool = new_pool(idp)
    details = {"client_id": "com.example.web", "team_id": "TEAM123456", "key_id": "KEY1234567",
               "private_key": APPLE_KEY, "authorize_scopes": "email name"}
    for key in ("team_id", "key_id", "private_key"):
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.create_identity_provider(
                UserPoolId=pool["Id"], ProviderName="SignInWithApple", ProviderType="SignInWithApple",
                ProviderDetails={k: v for k, v in details.items() if k != key},
            )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_identity_provider(
            UserPoolId=pool["Id"], ProviderName="SignInWithApple", ProviderType="SignInWithApple",
            ProviderDetails={**details, "private_key": "not a key"},
        )
    created = idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="SignInWithApple", ProviderType="SignInWithApple",
        ProviderDetails=details,
    )["IdentityProvider"]
    described = idp.describe_identity_provider(
        UserPoolId=pool["Id"], ProviderName="SignInWithApple")["IdentityProvider"]
    assert created == described
    assert described["ProviderDetails"]["team_id"] == "TEAM123456"
    assert described["ProviderDetails"]["key_id"] == "KEY1234567"
    assert "private_key" not in described["ProviderDetails"]
    assert described["AttributeMapping"]["username"] == "sub"


def test_updating_a_provider_changes_what_is_sent_and_keeps_its_secret(idp):
    # Arrange
    pool = new_pool(idp)
    idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Facebook", ProviderType="Facebook",
        ProviderDetails={**GOOGLE_DETAILS, "authorize_scopes": "public_profile,email"},
        IdpIdentifiers=["fb"],
    )
    # Act
    updated = idp.update_identity_provider(
        UserPoolId=pool["Id"],
        ProviderName="Facebook",
        ProviderDetails={"client_id": "new-id", "authorize_scopes": "email"},
    )["IdentityProvider"]
    # Assert
    assert updated["ProviderDetails"]["client_id"] == "new-id"
    assert updated["ProviderDetails"]["authorize_scopes"] == "email"
    assert updated["IdpIdentifiers"] == ["fb"]
    assert updated["LastModifiedDate"] >= updated["CreationDate"]
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_identity_provider(UserPoolId=pool["Id"], ProviderName="Nobody", AttributeMapping={"email": "email"})


def test_list_identity_providers_pages_through_every_provider(idp):
    pool = new_pool(idp)
    for name, kind in (("Google", "Google"), ("Facebook", "Facebook"), ("LoginWithAmazon", "LoginWithAmazon")):
        idp.create_identity_provider(UserPoolId=pool["Id"], ProviderName=name, ProviderType=kind,
                                     ProviderDetails=GOOGLE_DETAILS)
    pages = list_all(idp.list_identity_providers, "Providers", "MaxResults", 2, UserPoolId=pool["Id"])
    assert [len(p) for p in pages] == [2, 1]
    listed = {p["ProviderName"]: p["ProviderType"] for page in pages for p in page}
    assert listed == {"Google": "Google", "Facebook": "Facebook", "LoginWithAmazon": "LoginWithAmazon"}


def test_a_deleted_provider_is_gone(idp):
    pool = new_pool(idp)
    idp.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE_DETAILS
    )
    idp.delete_identity_provider(UserPoolId=pool["Id"], ProviderName="Google")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_identity_provider(UserPoolId=pool["Id"], ProviderName="Google")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_identity_provider(UserPoolId=pool["Id"], ProviderName="Google")
    assert idp.list_identity_providers(UserPoolId=pool["Id"])["Providers"] == []


# ---- groups ---------------------------------------------------------------------


def test_a_group_is_created_and_read_back(idp):
    pool = new_pool(idp)
    role = "arn:aws:iam::123456789012:role/admins"
    created = idp.create_group(
        UserPoolId=pool["Id"], GroupName="admins", Description="People who run things", Precedence=1, RoleArn=role
    )["Group"]
    read = idp.get_group(UserPoolId=pool["Id"], GroupName="admins")["Group"]
    assert created == read
    assert read["UserPoolId"] == pool["Id"]
    assert read["Description"] == "People who run things"
    assert read["Precedence"] == 1
    assert read["RoleArn"] == role


def test_group_names_are_unique_and_details_are_checked(idp):
    pool = new_pool(idp)
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins")
    with pytest.raises(idp.exceptions.GroupExistsException):
        idp.create_group(UserPoolId=pool["Id"], GroupName="admins")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_group(UserPoolId=pool["Id"], GroupName="has space")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_group(UserPoolId=pool["Id"], GroupName="roles", RoleArn="not-an-arn-but-long-enough")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_group(UserPoolId=pool["Id"], GroupName="nobody")


def test_updating_a_group_changes_only_what_is_sent(idp):
    pool = new_pool(idp)
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins", Description="keep me", Precedence=5)
    updated = idp.update_group(UserPoolId=pool["Id"], GroupName="admins", Precedence=0)["Group"]
    assert updated["Precedence"] == 0
    assert updated["Description"] == "keep me"
    assert idp.get_group(UserPoolId=pool["Id"], GroupName="admins")["Group"] == updated
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_group(UserPoolId=pool["Id"], GroupName="nobody", Precedence=1)


def test_list_groups_pages_through_every_group(idp):
    pool = new_pool(idp)
    names = [f"group-{i}" for i in range(5)]
    for name in names:
        idp.create_group(UserPoolId=pool["Id"], GroupName=name)
    pages = list_all(idp.list_groups, "Groups", "Limit", 2, UserPoolId=pool["Id"])
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(g["GroupName"] for page in pages for g in page) == names
    assert len(idp.list_groups(UserPoolId=pool["Id"])["Groups"]) == 5
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_groups(UserPoolId=pool["Id"], Limit=61)


def test_a_deleted_group_is_gone(idp):
    pool = new_pool(idp)
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins")
    idp.delete_group(UserPoolId=pool["Id"], GroupName="admins")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_group(UserPoolId=pool["Id"], GroupName="admins")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_group(UserPoolId=pool["Id"], GroupName="admins")
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins")


def test_the_shared_pool_fixture_has_a_client_for_every_password_flow(idp, pool):
    client = idp.describe_user_pool_client(UserPoolId=pool["id"], ClientId=pool["client_id"])["UserPoolClient"]
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert "ClientSecret" not in client


# Matrix: TK-08
def test_the_refresh_token_retry_grace_period_is_cognitos_refresh_token_rotation(idp):
    pool = new_pool(idp)
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="app",
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
    )["UserPoolClient"]
    assert client["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 30}
    described = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    assert described["UserPoolClient"]["RefreshTokenRotation"]["RetryGracePeriodSeconds"] == 30
    # Updating without it returns to Cognito's default: no grace period.
    updated = idp.update_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])["UserPoolClient"]
    assert "RefreshTokenRotation" not in updated
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="greedy",
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 61},
        )
