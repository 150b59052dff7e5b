"""No silent drops: botocore's cognito-idp model walked against cognate's field table.

src/cognito_api/fields.json lists, for every action cognate implements, the request
members it honours and those it accepts without effect (each with its reason). Every
other member is refused by the dispatcher with InvalidParameterException naming it.
This module checks the table against the installed botocore model and the server:
- every listed action and path exists in the model (no typos), and every accepted
  member says why it has no effect;
- an action the table does not list answers UnknownOperationException, and one it
  lists does not;
- every input member of a listed action (and every member of the structures the table
  walks) is either listed, or refused, by name, when sent with a plausible value built
  from the model;
- empty values of refused members, as SDKs send them by default, are accepted, and a
  refused request changes nothing.
"""
import json
import pathlib
import uuid

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from conftest import PASSWORD, create_user, make_client

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "src" / "cognito_api" / "fields.json").read_text())
MODEL = botocore.session.get_session().get_service_model("cognito-idp")


def expand(entries):
    """The table's paths for entries, `prefix@set` standing for the set's paths."""
    paths = []
    for entry in entries:
        prefix, at, name = entry.partition("@")
        paths += [prefix + p for p in TABLE["sets"][name]] if at else [entry]
    return paths


def listed(action):
    """(honoured paths, accepted paths) of an action."""
    spec = TABLE["actions"][action]
    return expand(spec["honoured"]), expand(spec.get("accepted", []))


def walked(paths):
    """The structures whose members the table checks: each path's proper prefixes."""
    prefixes = set()
    for path in paths:
        steps = path.split(".")
        for i in range(1, len(steps)):
            prefixes.add(".".join(steps[:i]))
    return prefixes


def resolve(shape, path):
    """The model shape a table path names, or None."""
    for step in path.split("."):
        name, is_list = (step[:-2], True) if step.endswith("[]") else (step, False)
        if shape.type_name != "structure" or name not in shape.members:
            return None
        shape = shape.members[name]
        if is_list:
            if shape.type_name != "list" or shape.member.type_name != "structure":
                return None
            shape = shape.member
    return shape


def model_members(shape, walk, prefix=""):
    """Every member path of shape, stepping into the structures the table walks."""
    for name, member in shape.members.items():
        path = prefix + name
        yield path
        if member.type_name == "structure" and path in walk:
            yield from model_members(member, walk, path + ".")
        if member.type_name == "list" and member.member.type_name == "structure" and path + "[]" in walk:
            yield from model_members(member.member, walk, path + "[].")


def plausible(shape, depth=0):
    """A well-formed, non-empty value of a model shape."""
    kind = shape.type_name
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(1, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "list":
        return [plausible(shape.member, depth + 1)] * max(1, shape.metadata.get("min", 1))
    if kind == "map":
        return {plausible(shape.key, depth + 1): plausible(shape.value, depth + 1)}
    assert kind == "structure" and depth < 8, (shape.name, kind)
    names = shape.required_members or list(shape.members)[:1]
    return {n: plausible(shape.members[n], depth + 1) for n in names}


def required_only(shape):
    return {n: plausible(shape.members[n]) for n in shape.required_members}


def request_with(operation, path):
    """The operation's required members, plus `path` (a table path) with a plausible value."""
    params = required_only(operation.input_shape)
    container, shape = params, operation.input_shape
    steps = path.split(".")
    for i, step in enumerate(steps):
        name, is_list = (step[:-2], True) if step.endswith("[]") else (step, False)
        member = shape.members[name]
        if i == len(steps) - 1:
            container[name] = plausible(member)
        elif is_list:
            items = container.setdefault(name, [required_only(member.member)])
            container, shape = items[0], member.member
        else:
            container, shape = container.setdefault(name, required_only(member)), member
    return params


def call(client, action, params):
    """The error code and message of a call, or (None, None) if it succeeded."""
    try:
        getattr(client, xform_name(action))(**params)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    return None, None


def unlisted_members():
    """(action, path) for every model member the table neither honours nor accepts."""
    for action in sorted(TABLE["actions"]):
        honoured, accepted = listed(action)
        taken = set(honoured + accepted)
        walk = walked(taken)
        for path in model_members(MODEL.operation_model(action).input_shape, walk):
            # A walked structure is not itself a member to refuse: its members are.
            if path not in taken and path not in walk and path + "[]" not in walk:
                yield action, path


UNLISTED = list(unlisted_members())


@pytest.fixture
def signed(server):
    """A client that signs every call, even those the model marks unauthenticated: an
    action cognate lacks asks unsigned callers for a signature before anything else."""
    client = make_client(server)
    client.meta.events.register("choose-signer.cognito-identity-provider.*", lambda **_: "v4")
    return client

# ---- the table against the model ---------------------------------------------------


def test_every_listed_action_and_member_is_in_the_model():
    operations = set(MODEL.operation_names)
    for action in TABLE["actions"]:
        assert action in operations, f"{action} is not a cognito-idp action"
        shape = MODEL.operation_model(action).input_shape
        honoured, accepted = listed(action)
        for path in honoured + accepted:
            assert resolve(shape, path) is not None, f"{action}: {path} is not a member of its input"
        assert len(set(honoured + accepted)) == len(honoured + accepted), f"{action} lists a member twice"
        for path in shape.required_members:
            assert path in honoured or any(p.startswith(path + ".") or p.startswith(path + "[].")
                                           for p in honoured), f"{action}: required {path} is not honoured"


def test_every_accepted_member_says_why_it_has_no_effect_and_every_reason_is_used():
    reasons = TABLE["reasons"]
    used = set()
    for action in TABLE["actions"]:
        honoured, accepted = listed(action)
        for path in accepted:
            assert reasons.get(path), f"{action}: accepted {path} has no reason"
        shape = MODEL.operation_model(action).input_shape
        used |= {p for p in reasons if resolve(shape, p) is not None and p not in honoured}
    assert set(reasons) == used, f"reasons for no accepted or refused member: {set(reasons) - used}"


def test_the_walk_covers_the_nested_settings_and_refuses_something():
    walk = walked(listed("CreateUserPool")[0])
    for structure in ("Policies.PasswordPolicy", "Schema[]", "AdminCreateUserConfig", "EmailConfiguration"):
        assert structure in walk, structure
    client_walk = walked(listed("CreateUserPoolClient")[0])
    assert {"TokenValidityUnits", "RefreshTokenRotation"} <= client_walk
    refused = {f"{a}.{p}" for a, p in UNLISTED}
    for expected in ("AdminInitiateAuth.Session", "CreateUserPool.DeviceConfiguration", "CreateUserPool.LambdaConfig.CustomEmailSender",
                     "CreateUserPool.EmailConfiguration.SourceArn", "CreateIdentityProvider.AcrMapping"):
        assert expected in refused, expected


# ---- the table against the server -------------------------------------------------


def test_actions_the_table_does_not_list_are_unknown_operations(signed):
    missing = sorted(set(MODEL.operation_names) - set(TABLE["actions"]))
    assert missing, "every action is implemented: this test has nothing left to check"
    for action in missing:
        code, message = call(signed, action, required_only(MODEL.operation_model(action).input_shape))
        assert code == "UnknownOperationException", (action, code, message)


def test_actions_the_table_lists_are_implemented_and_take_their_required_members(idp):
    for action in sorted(TABLE["actions"]):
        code, message = call(idp, action, required_only(MODEL.operation_model(action).input_shape))
        assert code != "UnknownOperationException", action
        assert "not supported by cognate" not in (message or ""), (action, message)


@pytest.mark.parametrize("action,path", UNLISTED, ids=[f"{a}.{p}" for a, p in UNLISTED])
def test_a_member_the_table_does_not_list_is_refused_by_name(idp, action, path):
    params = request_with(MODEL.operation_model(action), path)
    code, message = call(idp, action, params)
    shown = path.replace("[]", "[0]")
    assert code == "InvalidParameterException", (params, code, message)
    assert f"{shown} is not supported by cognate" in message, message
    reason = TABLE["reasons"].get(path)
    if reason:
        assert reason in message


# ---- what SDKs send ------------------------------------------------------------------


def test_empty_values_sdks_send_by_default_are_accepted(idp, unsigned, pool):
    username = f"amplify-{uuid.uuid4().hex[:8]}"
    # Amplify v5's SignUp: ValidationData [] and ClientMetadata {} even when unset.
    unsigned.sign_up(ClientId=pool["client_id"], Username=username, Password=PASSWORD,
                     UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
                     ValidationData=[], ClientMetadata={})
    idp.admin_confirm_sign_up(UserPoolId=pool["id"], Username=username, ClientMetadata={})
    # Its sign-in: ClientMetadata {}, and context data for threat protection (without effect).
    signed_in = unsigned.initiate_auth(
        ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}, ClientMetadata={},
        AnalyticsMetadata={"AnalyticsEndpointId": "endpoint"}, UserContextData={"EncodedData": "data"})
    assert "AccessToken" in signed_in["AuthenticationResult"]
    # pycognito's admin_reset_password sends ClientMetadata {}.
    idp.admin_update_user_attributes(UserPoolId=pool["id"], Username=username, ClientMetadata={},
                                     UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    idp.admin_reset_user_password(UserPoolId=pool["id"], Username=username, ClientMetadata={})


def test_a_refused_member_stops_the_action_before_it_changes_anything(idp, pool):
    name = f"refused-{uuid.uuid4().hex[:8]}"
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.create_user_pool(PoolName=name, DeviceConfiguration={"ChallengeRequiredOnNewDevice": True})
    assert "DeviceConfiguration is not supported by cognate: cognate does not track devices" in str(e.value)
    pages = idp.get_paginator("list_user_pools").paginate(MaxResults=60)
    assert name not in [p["Name"] for page in pages for p in page["UserPools"]]


def test_values_of_honoured_members_cognate_cannot_act_on_are_refused_by_name(idp, unsigned, pool):
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.admin_create_user(UserPoolId=pool["id"], Username=f"sms-{uuid.uuid4().hex[:8]}",
                              DesiredDeliveryMediums=["SMS"], TemporaryPassword=PASSWORD)
    assert "DesiredDeliveryMediums SMS is not supported by cognate" in str(e.value)
    username = f"revoke-{uuid.uuid4().hex[:8]}"
    create_user(idp, pool, username)
    tokens = unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD})
    refresh = tokens["AuthenticationResult"]["RefreshToken"]
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        unsigned.revoke_token(Token=refresh, ClientId=pool["client_id"], RevokeAssociatedSessions="LINKED")
    assert "RevokeAssociatedSessions LINKED is not supported by cognate" in str(e.value)
    # Still valid: the refused call revoked nothing. NONE, the default, revokes it.
    unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
                           AuthParameters={"REFRESH_TOKEN": refresh})
    unsigned.revoke_token(Token=refresh, ClientId=pool["client_id"], RevokeAssociatedSessions="NONE")
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
                               AuthParameters={"REFRESH_TOKEN": refresh})
