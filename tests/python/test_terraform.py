"""Terraform's call sequences, replayed with boto3: each resource's create → read → update
→ read → delete, with the request bodies terraform-provider-aws sends by default, and
assertions on the response fields it reads (a missing date or `Policies` panics the
provider; an invented block or an unechoed value gives a perpetual diff or "Provider
produced inconsistent result after apply").

The sequences come from hashicorp/terraform-provider-aws, internal/service/cognitoidp/,
as read for ../shared/research/terraform-cognito.md:
- user_pool.go at commit 015edb133ea64d879a0fdd1551d0c8daee7d4995 (about v5.8x, Jan 2025,
  with sign_in_policy and web_authn_configuration), tags through the v5/v6 tags
  interceptor (internal/provider/intercept.go, tags_gen.go 9989461a…/050ac111…);
- user_pool_client.go at commit 01f431114674c27cf790fafb67ac274bf8f765e1 and a v6.x copy
  (Plugin Framework, autoflex, refresh_token_rotation);
- managed_user_pool_client.go, resource_server.go, user_pool_ui_customization.go (SDK v2
  copies, 2024), identity_provider.go at 0ea4ca35db5cdf76cc6a4959e5d67ec36fc7081a,
  user_group.go at 0389eecfc28a5e2ac619651541a16d7fc289abf6, user.go at
  017393180ce6680c0c5c35cdf336a02a4ac151bb, user_in_group.go (2026 copy).
aws_cognito_user_pool_domain is the domains work's, not here.

Terraform's Go SDK sends what boto3 would refuse client-side (UpdateGroup's cleared
`RoleArn: ""`); those calls go through a client without parameter validation.
"""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from conftest import PASSWORD, make_client

# ---- helpers ----------------------------------------------------------------------


class Wire:
    """The raw JSON bodies of a client's responses, by operation name, so the tests see
    what the provider's Go SDK parses (epoch-second numbers, absent vs empty)."""

    def __init__(self, client):
        self.bodies = {}
        client.meta.events.register("after-call.cognito-identity-provider.*", self._keep)

    def _keep(self, http_response, model, **_):
        if http_response.status_code == 200 and http_response.content:
            self.bodies[model.name] = json.loads(http_response.content)

    def __getitem__(self, operation):
        return self.bodies[operation]


@pytest.fixture
def tf(server):
    """(boto3 client, its raw responses, a client that skips boto3's own validation)."""
    client = make_client(server)
    loose = make_client(server, parameter_validation=False)
    return client, Wire(client), loose


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def is_epoch_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1_500_000_000


# Terraform's userPoolSchemaAttributeMatchesStandardAttribute: a standard attribute is
# left out of state only if it is exactly this, so anything else is a phantom diff.
def _string(name, mn="0", mx="2048", mutable=True, required=False):
    return {"AttributeDataType": "String", "DeveloperOnlyAttribute": False, "Mutable": mutable, "Name": name,
            "Required": required, "StringAttributeConstraints": {"MaxLength": mx, "MinLength": mn}}


AWS_STANDARD_ATTRIBUTES = {
    a["Name"]: a
    for a in [
        _string("address"),
        _string("birthdate", "10", "10"),
        _string("email"),
        {"AttributeDataType": "Boolean", "DeveloperOnlyAttribute": False, "Mutable": True,
         "Name": "email_verified", "Required": False},
        _string("family_name"),
        _string("gender"),
        _string("given_name"),
        _string("locale"),
        _string("middle_name"),
        _string("name"),
        _string("nickname"),
        _string("phone_number"),
        {"AttributeDataType": "Boolean", "DeveloperOnlyAttribute": False, "Mutable": True,
         "Name": "phone_number_verified", "Required": False},
        _string("picture"),
        _string("preferred_username"),
        _string("profile"),
        _string("sub", "1", "2048", mutable=False, required=True),
        {"AttributeDataType": "Number", "DeveloperOnlyAttribute": False, "Mutable": True, "Name": "updated_at",
         "NumberAttributeConstraints": {"MinValue": "0"}, "Required": False},
        _string("website"),
        _string("zoneinfo"),
    ]
}

# What the provider sends for `password_policy {}` with every field: all seven.
PASSWORD_POLICY = {
    "MinimumLength": 10,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
    "RequireUppercase": True,
    "PasswordHistorySize": 0,
    "TemporaryPasswordValidityDays": 7,
}

# `schema` items as the provider expands them: explicit booleans, names without `custom:`.
TEAM = {
    "AttributeDataType": "String",
    "DeveloperOnlyAttribute": False,
    "Mutable": True,
    "Name": "team",
    "Required": False,
    "StringAttributeConstraints": {"MaxLength": "64", "MinLength": "1"},
}
LEVEL = {
    "AttributeDataType": "Number",
    "DeveloperOnlyAttribute": False,
    "Mutable": True,
    "Name": "level",
    "Required": False,
    "NumberAttributeConstraints": {"MaxValue": "10", "MinValue": "0"},
}
EMAIL_REQUIRED = {
    "AttributeDataType": "String",
    "DeveloperOnlyAttribute": False,
    "Mutable": True,
    "Name": "email",
    "Required": True,
}

# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def tf_read_pool(idp, wire, pool_id):
    """The provider's Read: DescribeUserPool, then GetUserPoolMfaConfig; the raw bodies."""
    idp.describe_user_pool(UserPoolId=pool_id)
    idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    return wire["DescribeUserPool"]["UserPool"], wire["GetUserPoolMfaConfig"]


def assert_pool_readable(pool, mfa):
    """What the provider dereferences or compares on every read."""
    assert is_epoch_number(pool["CreationDate"]) and is_epoch_number(pool["LastModifiedDate"])
    assert set(pool["Policies"]["PasswordPolicy"]) == set(PASSWORD_POLICY)
    assert pool["DeletionProtection"] in ("ACTIVE", "INACTIVE")
    assert pool["Arn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool['Id']}"
    assert pool["LambdaConfig"] == {}
    assert pool["MfaConfiguration"] == "OFF"
    assert isinstance(pool["EstimatedNumberOfUsers"], int)
    assert mfa["MfaConfiguration"] == "OFF"
    assert "SoftwareTokenMfaConfiguration" not in mfa and "WebAuthnConfiguration" not in mfa
    standard = {a["Name"]: a for a in pool["SchemaAttributes"] if a["Name"] in AWS_STANDARD_ATTRIBUTES}
    assert set(standard) == set(AWS_STANDARD_ATTRIBUTES)
    return standard


# ---- aws_cognito_user_pool ----------------------------------------------------------


def test_a_pool_with_the_providers_default_body_reads_back_without_invented_blocks(tf):
    idp, wire, _ = tf
    # Create: PoolName and DeletionProtection are all the provider sends by default.
    pool_id = idp.create_user_pool(PoolName=name("tf"), DeletionProtection="INACTIVE")["UserPool"]["Id"]
    pool, mfa = tf_read_pool(idp, wire, pool_id)
    standard = assert_pool_readable(pool, mfa)
    # Every standard attribute is exactly AWS's, so none becomes a phantom schema item.
    assert standard == AWS_STANDARD_ATTRIBUTES
    assert len(pool["SchemaAttributes"]) == len(AWS_STANDARD_ATTRIBUTES)
    assert pool["DeletionProtection"] == "INACTIVE"
    assert pool["UserPoolTags"] == {}
    # Optional-only blocks: never invented.
    for absent in ("AutoVerifiedAttributes", "UsernameAttributes", "AliasAttributes", "SmsAuthenticationMessage",
                   "DeviceConfiguration", "UserPoolAddOns", "UsernameConfiguration",
                   "UserAttributeUpdateSettings", "SmsConfiguration"):
        assert absent not in pool, absent
    assert pool["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"] == 7
    assert pool["Policies"]["PasswordPolicy"]["PasswordHistorySize"] == 0
    # Delete, then the provider's not-found handling.
    idp.delete_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool(UserPoolId=pool_id)


def test_a_configured_pool_goes_through_create_read_update_read_delete(tf):
    idp, wire, loose = tf
    # Create, with what a typical configuration sends.
    created = idp.create_user_pool(
        PoolName=name("tf"),
        DeletionProtection="INACTIVE",
        UserPoolTags={"env": "dev", "team": "identity"},
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        Schema=[TEAM, EMAIL_REQUIRED],
        AutoVerifiedAttributes=["email"],
        UsernameAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
        VerificationMessageTemplate={"DefaultEmailOption": "CONFIRM_WITH_CODE"},
        EmailConfiguration={"EmailSendingAccount": "COGNITO_DEFAULT"},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": False},
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": []},
        UserPoolAddOns={"AdvancedSecurityMode": "OFF"},
    )["UserPool"]
    pool_id = created["Id"]
    assert wire["CreateUserPool"]["UserPool"]["Id"] == pool_id
    # Read
    pool, mfa = tf_read_pool(idp, wire, pool_id)
    standard = assert_pool_readable(pool, mfa)
    assert pool["UserPoolTags"] == {"env": "dev", "team": "identity"}
    assert pool["Policies"]["PasswordPolicy"] == PASSWORD_POLICY
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]}
    assert pool["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": []}
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "OFF"}
    # The configured standard attribute differs from the default only in Required; the
    # custom one comes back with its prefix and its constraints exactly as sent.
    assert standard["email"] == {**AWS_STANDARD_ATTRIBUTES["email"], "Required": True}
    custom = {a["Name"]: a for a in pool["SchemaAttributes"] if a["Name"].startswith("custom:")}
    assert custom == {"custom:team": {**TEAM, "Name": "custom:team"}}

    # Update. First the tags interceptor: UntagResource (removed keys), TagResource
    # (added or changed), on the ARN from the read.
    arn = pool["Arn"]
    idp.untag_resource(ResourceArn=arn, TagKeys=["team"])
    idp.tag_resource(ResourceArn=arn, Tags={"env": "prod", "owner": "ops"})
    # Then SetUserPoolMfaConfig (mfa_configuration is always sent), then UpdateUserPool
    # with every block in state, but never Schema, UsernameAttributes or
    # UsernameConfiguration; then AddCustomAttributes for a new schema item. (The empty
    # invitation texts are what the provider sends for unset ones; boto3 would refuse
    # them.)
    mfa_set = idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF")
    assert mfa_set["MfaConfiguration"] == "OFF"
    loose.update_user_pool(
        UserPoolId=pool_id,
        DeletionProtection="ACTIVE",
        MfaConfiguration="OFF",
        Policies={"PasswordPolicy": {**PASSWORD_POLICY, "MinimumLength": 12, "PasswordHistorySize": 5}},
        AutoVerifiedAttributes=["email"],
        AccountRecoverySetting={"RecoveryMechanisms": [
            {"Name": "verified_email", "Priority": 1}, {"Name": "verified_phone_number", "Priority": 2}]},
        VerificationMessageTemplate={"DefaultEmailOption": "CONFIRM_WITH_CODE", "EmailSubject": "Your code",
                                     "EmailMessage": "Code: {####}"},
        EmailConfiguration={"EmailSendingAccount": "COGNITO_DEFAULT"},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True, "InviteMessageTemplate": {
            "EmailMessage": "", "EmailSubject": "", "SMSMessage": ""}},
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": []},
        LambdaConfig={},
    )
    idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[LEVEL])
    # Read
    pool, mfa = tf_read_pool(idp, wire, pool_id)
    assert_pool_readable(pool, mfa)
    assert pool["UserPoolTags"] == {"env": "prod", "owner": "ops"}
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod", "owner": "ops"}
    assert pool["DeletionProtection"] == "ACTIVE"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert pool["Policies"]["PasswordPolicy"]["PasswordHistorySize"] == 5
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # The empty invitation texts mean "the default": nothing to report.
    assert "InviteMessageTemplate" not in pool["AdminCreateUserConfig"]
    assert pool["VerificationMessageTemplate"]["EmailSubject"] == "Your code"
    # What UpdateUserPool never sends survived it.
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    custom = {a["Name"]: a for a in pool["SchemaAttributes"] if a["Name"].startswith("custom:")}
    assert custom == {"custom:team": {**TEAM, "Name": "custom:team"}, "custom:level": {**LEVEL, "Name": "custom:level"}}
    schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert schema["email"]["Required"] is True
    # UserPoolAddOns was not sent this time: the full replace removed it.
    assert "UserPoolAddOns" not in pool

    # Delete: deletion protection holds it until an update turns it off.
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.delete_user_pool(UserPoolId=pool_id)
    idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE", MfaConfiguration="OFF")
    idp.delete_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.list_tags_for_resource(ResourceArn=arn)


def test_a_tags_only_change_needs_no_update_user_pool(tf):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"), DeletionProtection="INACTIVE")["UserPool"]["Id"]
    arn = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    idp.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    idp.tag_resource(ResourceArn=arn, Tags={"b": "3"})
    idp.untag_resource(ResourceArn=arn, TagKeys=["a", "never-set"])
    pool, _ = tf_read_pool(idp, wire, pool_id)
    assert pool["UserPoolTags"] == {"b": "3"}
    # An unrelated UpdateUserPool (which carries no UserPoolTags) keeps them.
    idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE", MfaConfiguration="OFF")
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTags"] == {"b": "3"}
    # The provider's errs.IsA checks: unknown ARNs are missing resources.
    for missing in (arn.replace(pool_id, "us-east-1_Nope12345"), arn.replace("000000000000", "123456789012"),
                    f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool_id}/x"):
        with pytest.raises(idp.exceptions.ResourceNotFoundException):
            idp.tag_resource(ResourceArn=missing, Tags={"x": "y"})
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.tag_resource(ResourceArn=arn, Tags={"aws:reserved": "x"})


def test_mfa_factor_blocks_are_reported_only_when_set_and_a_mode_needs_a_factor(tf):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"), DeletionProtection="INACTIVE")["UserPool"]["Id"]
    # A web_authn_configuration makes the provider call SetUserPoolMfaConfig on create.
    webauthn = {"RelyingPartyId": "auth.example.com", "UserVerification": "preferred"}
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF", WebAuthnConfiguration=webauthn)
    idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert wire["GetUserPoolMfaConfig"] == {"MfaConfiguration": "OFF", "WebAuthnConfiguration": webauthn}
    # Removing it from the configuration sends MfaConfiguration alone: the block goes.
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF")
    idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert wire["GetUserPoolMfaConfig"] == {"MfaConfiguration": "OFF"}
    # ON and OPTIONAL need a factor the pool offers (SMS, Cognito's default, is not one).
    for refused in ({"MfaConfiguration": "ON"}, {"MfaConfiguration": "OPTIONAL"}):
        with pytest.raises(idp.exceptions.InvalidParameterException) as e:
            idp.set_user_pool_mfa_config(UserPoolId=pool_id, **refused)
        assert "needs a factor" in str(e.value)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool(PoolName=name("tf"), MfaConfiguration="OPTIONAL")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.update_user_pool(UserPoolId=pool_id, MfaConfiguration="ON")
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["MfaConfiguration"] == "OFF"
    # The provider's software_token_mfa_configuration: SetUserPoolMfaConfig, then
    # UpdateUserPool sending the same mode; both read back as set.
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
    idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE", MfaConfiguration="ON")
    idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert wire["GetUserPoolMfaConfig"] == {"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True}}
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["MfaConfiguration"] == "ON"


def test_pool_settings_cognate_has_no_behaviour_for_are_refused_by_name(tf):
    idp, _, _ = tf
    cases = {
        # Triggers are taken (test_triggers.py); the KMS-encrypted custom senders are not.
        "CustomEmailSender": {"LambdaConfig": {"CustomEmailSender": {
            "LambdaVersion": "V1_0", "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}}},
        "DeviceConfiguration": {"DeviceConfiguration": {"ChallengeRequiredOnNewDevice": False,
                                                        "DeviceOnlyRememberedOnUserPrompt": False}},
        "SmsConfiguration": {"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms"}},
        "AdvancedSecurityMode": {"UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}},
        "EmailSendingAccount": {"EmailConfiguration": {"EmailSendingAccount": "DEVELOPER"}},
        "EmailConfiguration.SourceArn": {"EmailConfiguration": {
            "EmailSendingAccount": "DEVELOPER", "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/x"}},
        "AutoVerifiedAttributes": {"AutoVerifiedAttributes": ["phone_number"]},
        "UsernameConfiguration": {"UsernameConfiguration": {"CaseSensitive": True}},
        "AttributesRequireVerificationBeforeUpdate": {
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["phone_number"]}},
        "DefaultEmailOption": {"VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_LINK"}},
        "RecoveryMechanisms": {"AccountRecoverySetting": {"RecoveryMechanisms": [
            {"Name": "verified_phone_number", "Priority": 1}]}},
    }
    for field, settings in cases.items():
        with pytest.raises(idp.exceptions.InvalidParameterException) as e:
            idp.create_user_pool(PoolName=name("tf"), **settings)
        assert field in str(e.value), (field, str(e.value))
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.create_user_pool(PoolName=name("tf"), AdminCreateUserConfig={"UnusedAccountValidityDays": 3})
    assert "TemporaryPasswordValidityDays" in str(e.value)


def test_custom_attributes_are_described_as_declared_and_their_constraints_enforced(tf):
    idp, _, _ = tf
    secret = {"AttributeDataType": "String", "DeveloperOnlyAttribute": True, "Mutable": True, "Name": "secret",
              "Required": False}
    pool_id = idp.create_user_pool(PoolName=name("tf"), Schema=[TEAM, LEVEL, secret])["UserPool"]["Id"]
    described = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]
    custom = [a for a in described if a["Name"] not in AWS_STANDARD_ATTRIBUTES]
    # Developer-only ones are named dev:custom:…, which the provider strips; none sent
    # without constraints gets any (an empty block would change the set's hash).
    assert sorted(custom, key=lambda a: a["Name"]) == [
        {**LEVEL, "Name": "custom:level"}, {**TEAM, "Name": "custom:team"}, {**secret, "Name": "dev:custom:secret"}]

    def create(username, **attributes):
        idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])

    create("fits", **{"custom:team": "core", "custom:level": "3"})
    for attributes in ({"custom:team": "x" * 65}, {"custom:level": "11"}, {"custom:level": "three"}):
        with pytest.raises(idp.exceptions.InvalidParameterException):
            create(name("user"), **attributes)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="fits",
                                         UserAttributes=[{"Name": "custom:level", "Value": "-1"}])
    # Bounds that cannot hold are refused when declared.
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[
            {"Name": "bad", "AttributeDataType": "String",
             "StringAttributeConstraints": {"MinLength": "9", "MaxLength": "2"}}])


# ---- aws_cognito_user_pool_client ---------------------------------------------------

CLIENT_CONFIG = {
    "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
    "CallbackURLs": ["https://app.example.com/cb", "https://app.example.com/other"],
    "LogoutURLs": ["https://app.example.com/bye"],
    "DefaultRedirectURI": "https://app.example.com/cb",
    "AllowedOAuthFlowsUserPoolClient": True,
    "AllowedOAuthFlows": ["code"],
    "AllowedOAuthScopes": ["openid", "email", "profile"],
    "SupportedIdentityProviders": ["COGNITO"],
    "AccessTokenValidity": 60,
    "IdTokenValidity": 60,
    "RefreshTokenValidity": 30,
    "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
    "PreventUserExistenceErrors": "ENABLED",
    "WriteAttributes": ["email", "name"],
}


def assert_echoes(client, sent):
    """Every configured value comes back exactly; sets may come back reordered."""
    for key, value in sent.items():
        if isinstance(value, list):
            assert sorted(client[key]) == sorted(value), key
        else:
            assert client[key] == value, key


def test_a_client_echoes_what_was_set_through_create_read_update_read_delete(tf):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    # Create: only configured values; the response is flattened into state.
    idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", GenerateSecret=True, **CLIENT_CONFIG)
    created = wire["CreateUserPoolClient"]["UserPoolClient"]
    assert_echoes(created, {"ClientName": "web", **CLIENT_CONFIG})
    assert "AnalyticsConfiguration" not in created and "RefreshTokenRotation" not in created
    assert is_epoch_number(created["CreationDate"]) and created["ClientSecret"]
    client_id = created["ClientId"]
    # Read
    idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    described = wire["DescribeUserPoolClient"]["UserPoolClient"]
    assert described == created
    # Update: the whole plan, computed values from state included.
    plan = {k: v for k, v in described.items()
            if k not in ("ClientId", "ClientSecret", "CreationDate", "LastModifiedDate", "UserPoolId")}
    plan.update(ClientName="web-2", CallbackURLs=["https://app.example.com/cb"], AccessTokenValidity=30,
                RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 10})
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, **plan)
    updated = wire["UpdateUserPoolClient"]["UserPoolClient"]
    assert_echoes(updated, plan)
    assert updated["ClientSecret"] == created["ClientSecret"]
    # Read
    idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    assert wire["DescribeUserPoolClient"]["UserPoolClient"] == updated
    # Removing token_validity_units: the provider sends the default units.
    plan.update(TokenValidityUnits={"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"},
                AccessTokenValidity=1, IdTokenValidity=1)
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, **plan)
    assert_echoes(wire["UpdateUserPoolClient"]["UserPoolClient"], plan)
    # Delete
    idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)


def test_a_client_created_with_only_a_name_has_no_unconfigured_blocks(tf):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    idp.create_user_pool_client(UserPoolId=pool_id, ClientName="bare")
    created = wire["CreateUserPoolClient"]["UserPoolClient"]
    for absent in ("TokenValidityUnits", "AnalyticsConfiguration", "RefreshTokenRotation", "DefaultRedirectURI",
                   "ClientSecret"):
        assert absent not in created, absent
    # Computed values: Cognito's defaults, in Cognito's default units.
    assert created["RefreshTokenValidity"] == 30
    assert created["AccessTokenValidity"] == 1 and created["IdTokenValidity"] == 1
    assert created["EnableTokenRevocation"] is True
    assert created["AuthSessionValidity"] == 3
    assert created["PreventUserExistenceErrors"] == "ENABLED"
    # Refused rather than accepted and ignored.
    for field, value in (("EnablePropagateAdditionalUserContextData", True),
                         ("AnalyticsConfiguration", {"ApplicationId": "abc123", "UserDataShared": False})):
        with pytest.raises(idp.exceptions.InvalidParameterException) as e:
            idp.create_user_pool_client(UserPoolId=pool_id, ClientName="x", **{field: value})
        assert field in str(e.value)


def test_a_managed_client_is_found_by_name_adopted_and_updated(tf):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    for i in range(3):
        idp.create_user_pool_client(UserPoolId=pool_id, ClientName=f"other-{i}")
    managed_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="AmazonOpenSearchService-dom-1")[
        "UserPoolClient"]["ClientId"]
    # Create: ListUserPoolClients by NextToken, exactly one match by name prefix.
    found, token = [], None
    while True:
        page = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=2, **({"NextToken": token} if token else {}))
        for c in page["UserPoolClients"]:
            assert set(c) == {"ClientId", "ClientName", "UserPoolId"}
            if c["ClientName"].startswith("AmazonOpenSearchService-"):
                found.append(c)
        token = page.get("NextToken")
        if not token:
            break
    assert [c["ClientId"] for c in found] == [managed_id]
    # Then Describe, and Update with the full model; then Read. Delete is a no-op.
    described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=managed_id)["UserPoolClient"]
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=managed_id, ClientName=described["ClientName"],
                                CallbackURLs=["https://search.example.com/_dashboards/app/home"],
                                AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
                                AllowedOAuthScopes=["openid"], SupportedIdentityProviders=["COGNITO"],
                                ExplicitAuthFlows=described["ExplicitAuthFlows"])
    idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=managed_id)
    read = wire["DescribeUserPoolClient"]["UserPoolClient"]
    assert read["CallbackURLs"] == ["https://search.example.com/_dashboards/app/home"]
    assert read == wire["UpdateUserPoolClient"]["UserPoolClient"]


# ---- aws_cognito_identity_provider ---------------------------------------------------


def test_an_identity_provider_update_changes_only_what_is_sent(tf):
    idp, _, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    details = {"client_id": "gid", "client_secret": "gsecret", "authorize_scopes": "openid email"}
    idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
                                 ProviderDetails=details, AttributeMapping={"email": "email", "username": "sub"})
    read = idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="Google")["IdentityProvider"]
    assert (read["ProviderName"], read["ProviderType"], read["UserPoolId"]) == ("Google", "Google", pool_id)
    assert read["IdpIdentifiers"] == []
    # Update: only the changed attribute mapping.
    idp.update_identity_provider(UserPoolId=pool_id, ProviderName="Google",
                                 AttributeMapping={"email": "email", "username": "sub", "name": "name"})
    read = idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="Google")["IdentityProvider"]
    assert read["AttributeMapping"] == {"email": "email", "username": "sub", "name": "name"}
    assert read["ProviderDetails"]["client_id"] == "gid"
    assert read["ProviderDetails"]["authorize_scopes"] == "openid email"
    # Update: only the changed details; the mapping stays.
    idp.update_identity_provider(UserPoolId=pool_id, ProviderName="Google",
                                 ProviderDetails={**details, "authorize_scopes": "openid"})
    read = idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="Google")["IdentityProvider"]
    assert read["ProviderDetails"]["authorize_scopes"] == "openid"
    assert read["AttributeMapping"]["name"] == "name"
    # Delete
    idp.delete_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_identity_provider(UserPoolId=pool_id, ProviderName="Google")


# ---- aws_cognito_user_group -----------------------------------------------------------


def test_a_group_update_keeps_what_is_not_sent_and_clears_what_is_sent_empty(tf):
    idp, _, loose = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    role = "arn:aws:iam::123456789012:role/admins"
    created = idp.create_group(UserPoolId=pool_id, GroupName="admins", Description="Admins", Precedence=5,
                               RoleArn=role)["Group"]
    # The provider's ID is the response's UserPoolId/GroupName.
    assert (created["UserPoolId"], created["GroupName"]) == (pool_id, "admins")
    # Update: only the changed description.
    idp.update_group(UserPoolId=pool_id, GroupName="admins", Description="People who run things")
    read = idp.get_group(UserPoolId=pool_id, GroupName="admins")["Group"]
    assert (read["Description"], read["Precedence"], read["RoleArn"]) == ("People who run things", 5, role)
    # Update: the role removed from the configuration is sent as "".
    loose.update_group(UserPoolId=pool_id, GroupName="admins", RoleArn="")
    read = idp.get_group(UserPoolId=pool_id, GroupName="admins")["Group"]
    assert "RoleArn" not in read
    assert (read["Description"], read["Precedence"]) == ("People who run things", 5)
    # Delete
    idp.delete_group(UserPoolId=pool_id, GroupName="admins")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_group(UserPoolId=pool_id, GroupName="admins")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_group(UserPoolId=pool_id, GroupName="admins")


# ---- aws_cognito_user and aws_cognito_user_in_group -----------------------------------


def test_a_user_reads_back_with_sub_and_only_the_attributes_set(tf):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"), Schema=[TEAM])["UserPool"]["Id"]
    # Create: AdminCreateUser, then AdminSetUserPassword Permanent for `password`.
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"},
                                          {"Name": "custom:team", "Value": "core"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    # Read
    idp.admin_get_user(UserPoolId=pool_id, Username="alice")
    user = wire["AdminGetUser"]
    assert is_epoch_number(user["UserCreateDate"]) and is_epoch_number(user["UserLastModifiedDate"])
    assert user["Enabled"] is True
    assert user["UserStatus"] == "CONFIRMED"
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert set(attributes) == {"sub", "email", "custom:team"}
    assert attributes["custom:team"] == "core"
    # Update: changed attributes, removed ones, disable.
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="alice",
                                     UserAttributes=[{"Name": "name", "Value": "Alice"}])
    idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="alice", UserAttributeNames=["custom:team"])
    idp.admin_disable_user(UserPoolId=pool_id, Username="alice")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD + "x", Permanent=False)
    # Read
    user = idp.admin_get_user(UserPoolId=pool_id, Username="alice")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert set(attributes) == {"sub", "email", "name"}
    assert user["Enabled"] is False
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    idp.admin_enable_user(UserPoolId=pool_id, Username="alice")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="alice")["Enabled"] is True
    # Delete
    idp.admin_delete_user(UserPoolId=pool_id, Username="alice")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool_id, Username="alice")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_delete_user(UserPoolId=pool_id, Username="alice")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_get_user(UserPoolId="us-east-1_Nope12345", Username="alice")


def test_a_membership_is_added_found_by_listing_and_removed(tf):
    idp, _, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS")
    for group in ("a", "b", "c"):
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="bob", GroupName="b")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="bob", GroupName="c")

    def groups_of(username):
        names, token = [], None
        while True:
            page = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=username, Limit=1,
                                                  **({"NextToken": token} if token else {}))
            names += [g["GroupName"] for g in page["Groups"]]
            token = page.get("NextToken")
            if not token:
                return names

    assert "b" in groups_of("bob")
    idp.admin_remove_user_from_group(UserPoolId=pool_id, Username="bob", GroupName="b")
    assert groups_of("bob") == ["c"]
    with pytest.raises(idp.exceptions.UserNotFoundException):
        groups_of("nobody")


# ---- aws_cognito_resource_server ------------------------------------------------------


def test_a_resource_server_is_replaced_by_its_full_update(tf):
    idp, _, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    scopes = [{"ScopeName": "read", "ScopeDescription": "Read"}, {"ScopeName": "write", "ScopeDescription": "Write"}]
    idp.create_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com", Name="API", Scopes=scopes)
    read = idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")["ResourceServer"]
    assert read == {"UserPoolId": pool_id, "Identifier": "https://api.example.com", "Name": "API", "Scopes": scopes}
    # Update: the full scope list, [] when there are none.
    idp.update_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com", Name="API 2", Scopes=[])
    read = idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")["ResourceServer"]
    assert (read["Name"], read.get("Scopes", [])) == ("API 2", [])
    idp.delete_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")


# ---- aws_cognito_user_pool_ui_customization ---------------------------------------------


def fetch(url):
    """(status, headers, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=5) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def login_page(server, pool_id, client_id):
    q = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "scope": "openid",
                                "redirect_uri": "https://app.example.com/cb", "code_challenge_method": "S256",
                                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
    status, _, body = fetch(f"{server}/{pool_id}/oauth2/authorize?{q}")
    assert status == 200
    return body.decode()


def test_ui_customization_is_set_read_applied_to_the_hosted_pages_and_reset(tf, server):
    idp, wire, _ = tf
    pool_id = idp.create_user_pool(PoolName=name("tf"))["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", CallbackURLs=["https://app.example.com/cb"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]["ClientId"]
    css = ".banner-customizable { background-color: #123456; }\n.label-customizable { font-weight: 400; }"
    # Create: client_id defaults to ALL.
    idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=css, ImageFile=PNG)
    # Read
    idp.get_ui_customization(UserPoolId=pool_id, ClientId="ALL")
    ui = wire["GetUICustomization"]["UICustomization"]
    assert (ui["UserPoolId"], ui["ClientId"], ui["CSS"]) == (pool_id, "ALL", css)
    assert ui["CSSVersion"] and is_epoch_number(ui["CreationDate"]) and is_epoch_number(ui["LastModifiedDate"])
    status, headers, body = fetch(ui["ImageUrl"])
    assert (status, body) == (200, PNG)
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # The hosted pages carry the stylesheet (from cognate's origin) and the logo.
    page = login_page(server, pool_id, client_id)
    assert ui["ImageUrl"] in page.replace("&amp;", "&")
    sheet = page.split('<link rel="stylesheet" href="')[2].split('"')[0].replace("&amp;", "&")
    status, headers, body = fetch(sheet)
    assert status == 200 and headers["Content-Type"].startswith("text/css") and css in body.decode()
    # Update: a client's own customization wins over ALL for that client.
    idp.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, CSS=".submitButton-customizable { color: red; }")
    own = idp.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)["UICustomization"]
    assert own["ClientId"] == client_id and "ImageUrl" not in own
    page = login_page(server, pool_id, client_id)
    assert ui["ImageUrl"] not in page.replace("&amp;", "&")
    # Delete: SetUICustomization with neither CSS nor image; the read then is empty,
    # which the provider takes as gone.
    idp.set_ui_customization(UserPoolId=pool_id, ClientId=client_id)
    assert idp.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)["UICustomization"]["ClientId"] == "ALL"
    idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL")
    idp.get_ui_customization(UserPoolId=pool_id, ClientId="ALL")
    assert wire["GetUICustomization"] == {"UICustomization": {}}
    assert fetch(ui["ImageUrl"])[0] == 404
    # Not-found errors and refused content.
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_ui_customization(UserPoolId=pool_id, ClientId="nosuchclient")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.set_ui_customization(UserPoolId="us-east-1_Nope12345", ClientId="ALL", CSS="a{}")
    for bad in ({"CSS": "</style><script>alert(1)</script>"}, {"ImageFile": b"GIF89a..."},
                {"ImageFile": b"<svg xmlns='http://www.w3.org/2000/svg'/>"}):
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", **bad)
