"""`cognate import-from-cognito` (issue 17, item 4): a pool set up through the Cognito API
(the only Cognito these machines reach is cognate's own) is read with SigV4-signed AWS
JSON calls into a file, which `cognate apply` loads into a fresh database: the client
keeps its id and secret, groups and memberships come along, native users come in as
RESET_REQUIRED (Cognito never exports password hashes) and a Google user as an external
user with its identity."""
import json
import os
import subprocess
import uuid

from conftest import BINARY, KEY_ID, SECRET, SERVER_ENV, make_client, new_server_env, run_server

API = "https://api.example.com"
GOOGLE_SUB = "117000000000000000001"
GOOGLE_USER_SUB = str(uuid.uuid4())
CSS = ".banner-customizable { background-color: #123456; }"


def run(*args, env):
    out = subprocess.run([str(BINARY), *args], env=env, capture_output=True, text=True)
    assert out.returncode == 0, f"cognate {' '.join(args)}: {out.stderr}"
    return out


def source_pool(idp, tmp_path):
    """A pool with a custom attribute, a resource server, Google, a confidential OAuth
    client, two groups, three native users (one disabled) and a Google user."""
    pool_id = idp.create_user_pool(
        PoolName=f"imported-{uuid.uuid4().hex[:8]}",
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireNumbers": True}},
    )["UserPool"]["Id"]
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "Read things"}])
    idp.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
        ProviderDetails={"client_id": "google-id", "client_secret": "google-secret",
                         "authorize_scopes": "openid email"},
        AttributeMapping={"email": "email"},
    )
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", GenerateSecret=True,
        CallbackURLs=["https://app.example.com/cb"], LogoutURLs=["https://app.example.com/bye"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", f"{API}/read"],
        SupportedIdentityProviders=["COGNITO", "Google"],
        AccessTokenValidity=30, TokenValidityUnits={"AccessToken": "minutes"},
    )["UserPoolClient"]
    idp.set_ui_customization(UserPoolId=pool_id, ClientId=client["ClientId"], CSS=CSS)
    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1, Description="Admins")
    idp.create_group(UserPoolId=pool_id, GroupName="readers")
    for name, groups in [("ann", ["admins", "readers"]), ("bob", ["readers"]), ("cy", [])]:
        idp.admin_create_user(
            UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"},
                            {"Name": "custom:team", "Value": "blue"}],
        )
        for group in groups:
            idp.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=group)
    idp.admin_disable_user(UserPoolId=pool_id, Username="cy")
    # A Google user who has signed in (made here by applying the pool back with one).
    exported = tmp_path / "source.json"
    run("export", "--pool", pool_id, "--format", "json", "--secrets-dir", str(tmp_path / "src-secrets"),
        "--output", str(exported), env=SERVER_ENV)
    document = json.loads(exported.read_text())
    document["pools"][0]["external_users"] = [{
        "provider": "Google", "subject": GOOGLE_SUB, "sub": GOOGLE_USER_SUB,
        "attributes": {"email": "gail@example.com"}, "groups": ["readers"],
    }]
    exported.write_text(json.dumps(document))
    run("apply", "-f", str(exported), env=SERVER_ENV)
    return pool_id, client


def import_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return dict(env, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)


def test_an_imported_pool_applied_to_a_fresh_database_keeps_its_client_groups_and_users(server, idp, tmp_path):
    # Arrange
    pool_id, client = source_pool(idp, tmp_path)
    secrets = tmp_path / "secrets"
    imported = tmp_path / "imported.json"
    # Act
    out = run("import-from-cognito", "--endpoint-url", server, "--pool", pool_id, "--secrets-dir", str(secrets),
              "--format", "json", "--output", str(imported), env=import_env())
    # Assert: the file
    [pool] = json.loads(imported.read_text())["pools"]
    assert pool["id"] == pool_id
    assert pool["settings"]["allow_self_signup"] is False
    assert pool["settings"]["password_policy"]["minimum_length"] == 12
    assert [a["name"] for a in pool["schema"]] == ["custom:team"]
    [web] = pool["clients"]
    assert web["id"] == client["ClientId"]
    secret_file = web["secret"].removeprefix("file:")
    assert open(secret_file).read() == client["ClientSecret"]
    assert os.stat(secret_file).st_mode & 0o777 == 0o600
    assert web["callback_urls"] == ["https://app.example.com/cb"]
    assert web["allowed_scopes"] == ["openid", "email", f"{API}/read"]
    assert web["access_token_validity"] == 1800
    assert web["ui_customization"] == {"css": CSS}
    [google] = pool["identity_providers"]
    assert (google["type"], google["client_id"]) == ("Google", "google-id")
    # cognate's API does not return a provider's secret: the file names a variable.
    env_name = google["client_secret"].removeprefix("env:")
    assert env_name in out.stderr
    assert pool["resource_servers"] == [{"identifier": API, "name": "api",
                                         "scopes": [{"name": "read", "description": "Read things"}]}]
    assert [g["name"] for g in pool["groups"]] == ["admins", "readers"]
    users = {u["username"]: u for u in pool["users"]}
    assert sorted(users) == ["ann", "bob", "cy"]
    assert users["ann"]["groups"] == ["admins", "readers"]
    assert users["ann"]["attributes"] == {"email": "ann@example.com", "custom:team": "blue"}
    assert {u["status"] for u in users.values()} == {"RESET_REQUIRED"}
    assert users["cy"]["enabled"] is False
    assert "password_hash" not in users["ann"]
    assert "RESET_REQUIRED" in out.stderr
    [gail] = pool["external_users"]
    assert (gail["provider"], gail["subject"], gail["sub"], gail["groups"]) == (
        "Google", GOOGLE_SUB, GOOGLE_USER_SUB, ["readers"])

    # Act: into a fresh database
    fresh = new_server_env(**{env_name: "google-secret"})
    run("apply", "-f", str(imported), env=fresh)
    # Assert: nothing left to apply, and a server on it has the same pool
    assert "No changes." in run("plan", "-f", str(imported), env=fresh).stdout
    servers = run_server(fresh)
    url = next(servers)
    try:
        other = make_client(url)
        described = other.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
        assert described["UserPoolClient"]["ClientSecret"] == client["ClientSecret"]
        assert described["UserPoolClient"]["AllowedOAuthScopes"] == ["openid", "email", f"{API}/read"]
        ui = other.get_ui_customization(UserPoolId=pool_id, ClientId=client["ClientId"])["UICustomization"]
        assert ui["CSS"] == CSS
        listed = {u["Username"]: u for u in other.list_users(UserPoolId=pool_id)["Users"]}
        assert sorted(listed) == ["Google_" + GOOGLE_SUB, "ann", "bob", "cy"]
        assert listed["ann"]["UserStatus"] == "RESET_REQUIRED"
        assert listed["cy"]["Enabled"] is False
        assert {"Name": "sub", "Value": users["ann"]["sub"]} in listed["ann"]["Attributes"]
        assert listed["Google_" + GOOGLE_SUB]["UserStatus"] == "EXTERNAL_PROVIDER"
        groups = lambda name: sorted(  # noqa: E731
            g["GroupName"] for g in other.admin_list_groups_for_user(UserPoolId=pool_id, Username=name)["Groups"])
        assert groups("ann") == ["admins", "readers"]
        assert groups("bob") == ["readers"]
        assert "readers" in groups("Google_" + GOOGLE_SUB)
    finally:
        next(servers, None)


def test_without_a_secrets_folder_the_secret_is_new_and_users_may_be_left_to_migration(server, idp):
    # Arrange
    pool_id = idp.create_user_pool(PoolName=f"imported-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    idp.create_user_pool_client(UserPoolId=pool_id, ClientName="svc", GenerateSecret=True)
    idp.admin_create_user(UserPoolId=pool_id, Username="dee", MessageAction="SUPPRESS")
    # Act
    out = run("import-from-cognito", "--endpoint-url", server, "--pool", pool_id, "--format", "json",
              "--leave-users-to-migration", env=import_env())
    # Assert
    [pool] = json.loads(out.stdout)["pools"]
    [svc] = pool["clients"]
    assert svc["secret"] == "generate"
    assert "client svc: its secret is not kept" in out.stderr
    assert "users" not in pool
    assert "1 native user(s) left out: a UserMigration trigger" in out.stderr


def test_a_wrong_key_or_an_unknown_pool_fails_with_cognitos_error(server):
    # Act
    bad_key = subprocess.run([str(BINARY), "import-from-cognito", "--endpoint-url", server, "--pool", "us-east-1_nothere1"],
                             env=dict(import_env(), AWS_SECRET_ACCESS_KEY="wrong"), capture_output=True, text=True)
    unknown = subprocess.run([str(BINARY), "import-from-cognito", "--endpoint-url", server, "--pool", "us-east-1_nothere1"],
                             env=import_env(), capture_output=True, text=True)
    # Assert
    assert bad_key.returncode != 0 and "DescribeUserPool" in bad_key.stderr
    assert unknown.returncode != 0 and "ResourceNotFoundException" in unknown.stderr


def test_users_and_members_past_one_page_are_all_imported(server, idp):
    # Arrange: one more than a page (60) of users, all in one group
    pool_id = idp.create_user_pool(PoolName=f"imported-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    idp.create_group(UserPoolId=pool_id, GroupName="all")
    names = [f"user{i:02}" for i in range(61)]
    for name in names:
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName="all")
    # Act
    out = run("import-from-cognito", "--endpoint-url", server, "--pool", pool_id, "--format", "json",
              env=import_env())
    # Assert
    users = json.loads(out.stdout)["pools"][0]["users"]
    assert sorted(u["username"] for u in users) == names
    assert all(u["groups"] == ["all"] for u in users)
