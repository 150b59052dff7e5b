"""The administrator user actions through boto3: AdminCreateUser … AdminUserGlobalSignOut,
ListUsers (filters, paging) and ListUsersInGroup. Every response is checked against
botocore's output shape by the `idp` fixture's hook.

Pools, clients, groups and identity providers are made with the `cognate` CLI on the
server's database, so these tests do not depend on the management actions.
"""
import re
import uuid

import botocore
import pytest

from conftest import PASSWORD, cognate, make_client

ALL_ACTIONS_ON_A_USER = [
    ("admin_get_user", {}),
    ("admin_delete_user", {}),
    ("admin_update_user_attributes", {"UserAttributes": [{"Name": "name", "Value": "X"}]}),
    ("admin_delete_user_attributes", {"UserAttributeNames": ["name"]}),
    ("admin_set_user_password", {"Password": PASSWORD, "Permanent": True}),
    ("admin_reset_user_password", {}),
    ("admin_confirm_sign_up", {}),
    ("admin_enable_user", {}),
    ("admin_disable_user", {}),
    ("admin_list_groups_for_user", {}),
    ("admin_user_global_sign_out", {}),
]


def make_pool(server_env):
    pool_id = cognate(
        server_env, "pool", "create", "--name", f"pool-{uuid.uuid4().hex[:8]}", "--custom-attribute", "team"
    )["pool_id"]
    client = cognate(server_env, "client", "create", "--pool", pool_id, "--name", "app")
    return {"id": pool_id, "client_id": client["client_id"]}


@pytest.fixture
def pool(server_env):
    """Overrides conftest's pool: made with the CLI rather than CreateUserPool."""
    return make_pool(server_env)


def invite(idp, pool, username, **attributes):
    """An administrator-created user whose temporary password is not sent."""
    attrs = [{"Name": k, "Value": v} for k, v in attributes.items()]
    return idp.admin_create_user(
        UserPoolId=pool["id"], Username=username, UserAttributes=attrs, MessageAction="SUPPRESS"
    )["User"]


def attributes(user_attributes):
    return {a["Name"]: a["Value"] for a in user_attributes}


def outbox(server_env, to):
    """Messages kept for an address, newest first."""
    return cognate(server_env, "outbox", "--to", to)


def make_group(server_env, pool, name):
    cognate(server_env, "group", "create", "--pool", pool["id"], "--name", name)


def add_google(server_env, pool):
    cognate(
        server_env, "idp", "put", "--pool", pool["id"], "--name", "Google", "--type", "Google",
        "--client-id", "google-client", "--client-secret", "google-secret",
    )


# AdminCreateUser


def test_a_created_user_must_change_the_mailed_temporary_password(idp, pool, server_env):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    user = idp.admin_create_user(
        UserPoolId=pool["id"],
        Username="newcomer",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": "New Comer"}],
    )["User"]
    assert user["Username"] == "newcomer"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user["Enabled"] is True
    attrs = attributes(user["Attributes"])
    assert user["Attributes"][0]["Name"] == "sub"
    assert attrs["email"] == email and attrs["name"] == "New Comer"
    [message] = outbox(server_env, email)
    assert message["kind"] == "temporary_password"
    password = re.search(r"temporary password is (\S+)", message["body_text"]).group(1)
    assert len(password) >= 16
    assert all(re.search(p, password) for p in ("[A-Z]", "[a-z]", "[0-9]", r"[^A-Za-z0-9]"))


def test_a_given_temporary_password_is_the_one_mailed(idp, pool, server_env):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    idp.admin_create_user(
        UserPoolId=pool["id"], Username="given", TemporaryPassword="Temporary-pass-1",
        UserAttributes=[{"Name": "email", "Value": email}], DesiredDeliveryMediums=["EMAIL"],
    )
    [message] = outbox(server_env, email)
    assert "Temporary-pass-1" in message["body_text"]


def test_suppress_creates_the_user_without_a_message(idp, pool, server_env):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    user = invite(idp, pool, "quiet", email=email)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert outbox(server_env, email) == []


def test_resend_mails_a_new_temporary_password(idp, pool, server_env):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    idp.admin_create_user(UserPoolId=pool["id"], Username="again", UserAttributes=[{"Name": "email", "Value": email}])
    user = idp.admin_create_user(UserPoolId=pool["id"], Username="again", MessageAction="RESEND")["User"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    newest, first = outbox(server_env, email)
    assert newest["body_text"] != first["body_text"]


def test_resend_needs_an_existing_user_who_has_not_chosen_a_password(idp, pool):
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_create_user(UserPoolId=pool["id"], Username="nobody", MessageAction="RESEND")
    invite(idp, pool, "settled", email="settled@example.com")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="settled", Password=PASSWORD, Permanent=True)
    with pytest.raises(idp.exceptions.UnsupportedUserStateException):
        idp.admin_create_user(UserPoolId=pool["id"], Username="settled", MessageAction="RESEND")


def test_a_weak_temporary_password_is_refused(idp, pool):
    with pytest.raises(idp.exceptions.InvalidPasswordException):
        idp.admin_create_user(UserPoolId=pool["id"], Username="weak", TemporaryPassword="short", MessageAction="SUPPRESS")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool["id"], Username="weak")


def test_a_taken_username_is_refused_in_any_case(idp, pool):
    invite(idp, pool, "Taken")
    with pytest.raises(idp.exceptions.UsernameExistsException):
        invite(idp, pool, "taken")


@pytest.mark.parametrize(
    "attrs, message",
    [
        ([{"Name": "favourite_colour", "Value": "blue"}], "unknown attribute"),
        ([{"Name": "sub", "Value": "mine"}], "unknown attribute"),
        ([{"Name": "email", "Value": "not-an-email"}], "email"),
        ([{"Name": "phone_number", "Value": "555-0100"}], "phone number"),
        ([{"Name": "email_verified", "Value": "yes"}], "true or false"),
    ],
)
def test_invalid_attributes_are_refused(idp, pool, attrs, message):
    with pytest.raises(idp.exceptions.InvalidParameterException, match=message):
        idp.admin_create_user(UserPoolId=pool["id"], Username="odd", UserAttributes=attrs, MessageAction="SUPPRESS")


def test_an_invitation_needs_an_address_unless_suppressed(idp, pool):
    with pytest.raises(idp.exceptions.InvalidParameterException, match="no email address"):
        idp.admin_create_user(UserPoolId=pool["id"], Username="unreachable")
    with pytest.raises(idp.exceptions.InvalidParameterException, match="MessageAction"):
        idp.admin_create_user(UserPoolId=pool["id"], Username="x", MessageAction="SHOUT")


def test_in_an_email_username_pool_the_username_is_the_email(idp, pool, server_env):
    cognate(server_env, "pool", "update", "--pool", pool["id"], "--email-as-username", "true")
    user = invite(idp, pool, "Mixed.Case@Example.com")
    assert user["Username"] == "mixed.case@example.com"
    assert attributes(user["Attributes"])["email"] == "mixed.case@example.com"
    with pytest.raises(idp.exceptions.InvalidParameterException):
        invite(idp, pool, "not-an-email")


# Reading, changing and deleting users


def test_admin_get_user_shows_status_attributes_and_dates(idp, pool):
    created = invite(idp, pool, "gus", email="gus@example.com", **{"custom:team": "blue"})
    got = idp.admin_get_user(UserPoolId=pool["id"], Username="GUS")
    assert got["Username"] == "gus"
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert got["Enabled"] is True
    assert got["UserAttributes"] == created["Attributes"]
    assert attributes(got["UserAttributes"])["custom:team"] == "blue"
    assert got["UserCreateDate"] == created["UserCreateDate"]


def test_admin_delete_user_removes_the_user(idp, pool):
    invite(idp, pool, "gone")
    idp.admin_delete_user(UserPoolId=pool["id"], Username="gone")
    with pytest.raises(idp.exceptions.UserNotFoundException, match="User does not exist."):
        idp.admin_get_user(UserPoolId=pool["id"], Username="gone")


def test_attributes_are_updated_and_a_new_email_is_unverified(idp, pool):
    invite(idp, pool, "ursula", email="old@example.com", email_verified="true", name="Ursula")
    idp.admin_update_user_attributes(
        UserPoolId=pool["id"], Username="ursula",
        UserAttributes=[{"Name": "email", "Value": "new@example.com"}, {"Name": "given_name", "Value": "Ursa"}],
    )
    attrs = attributes(idp.admin_get_user(UserPoolId=pool["id"], Username="ursula")["UserAttributes"])
    assert attrs["email"] == "new@example.com"
    assert attrs["email_verified"] == "false"
    assert attrs["given_name"] == "Ursa" and attrs["name"] == "Ursula"
    idp.admin_update_user_attributes(
        UserPoolId=pool["id"], Username="ursula",
        UserAttributes=[{"Name": "email", "Value": "newer@example.com"}, {"Name": "email_verified", "Value": "true"}],
    )
    attrs = attributes(idp.admin_get_user(UserPoolId=pool["id"], Username="ursula")["UserAttributes"])
    assert attrs["email_verified"] == "true"
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_update_user_attributes(
            UserPoolId=pool["id"], Username="ursula", UserAttributes=[{"Name": "shoe_size", "Value": "9"}]
        )


def test_attributes_are_deleted_but_required_ones_stay(idp, pool):
    invite(idp, pool, "dora", email="dora@example.com", name="Dora", **{"custom:team": "red"})
    idp.admin_delete_user_attributes(UserPoolId=pool["id"], Username="dora", UserAttributeNames=["name", "custom:team"])
    attrs = attributes(idp.admin_get_user(UserPoolId=pool["id"], Username="dora")["UserAttributes"])
    assert "name" not in attrs and "custom:team" not in attrs and attrs["email"] == "dora@example.com"
    with pytest.raises(idp.exceptions.InvalidParameterException, match="required"):
        idp.admin_delete_user_attributes(UserPoolId=pool["id"], Username="dora", UserAttributeNames=["email"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_delete_user_attributes(UserPoolId=pool["id"], Username="dora", UserAttributeNames=["nonsense"])


# Passwords and status


def test_a_permanent_password_confirms_and_a_temporary_one_forces_a_change(idp, pool):
    invite(idp, pool, "pat")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="pat", Password=PASSWORD, Permanent=True)
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="pat")["UserStatus"] == "CONFIRMED"
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="pat", Password="Another-pass-2", Permanent=False)
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="pat")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


@pytest.mark.parametrize("password", ["Sh-1a", "alllowercase-1", "NoDigits-here", "NoSymbols123", "pat"])
def test_a_password_against_the_pool_policy_is_refused(idp, pool, password):
    invite(idp, pool, "pat")
    with pytest.raises(idp.exceptions.InvalidPasswordException):
        idp.admin_set_user_password(UserPoolId=pool["id"], Username="pat", Password=password, Permanent=True)


def test_a_reset_requires_a_new_password_and_mails_a_code(idp, pool, server_env):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    invite(idp, pool, "rita", email=email, email_verified="true")
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.admin_reset_user_password(UserPoolId=pool["id"], Username="rita")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="rita", Password=PASSWORD, Permanent=True)
    idp.admin_reset_user_password(UserPoolId=pool["id"], Username="rita")
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="rita")["UserStatus"] == "RESET_REQUIRED"
    [message] = outbox(server_env, email)
    assert message["kind"] == "reset"
    assert re.search(r"reset code is \d{6}", message["body_text"])


def test_resets_past_the_message_cap_are_limit_exceeded_not_a_server_error(idp, pool):
    invite(idp, pool, "cap", email=f"{uuid.uuid4().hex[:8]}@example.com", email_verified="true")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="cap", Password=PASSWORD, Permanent=True)
    with pytest.raises(idp.exceptions.LimitExceededException):
        for _ in range(10):
            idp.admin_reset_user_password(UserPoolId=pool["id"], Username="cap")


def test_a_reset_needs_an_email_address(idp, pool):
    invite(idp, pool, "mute")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="mute", Password=PASSWORD, Permanent=True)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_reset_user_password(UserPoolId=pool["id"], Username="mute")


def test_admin_confirm_sign_up_confirms_an_unconfirmed_user_once(idp, pool, server_env):
    cognate(
        server_env, "user", "create", "--pool", pool["id"], "--username", "una",
        "--password", PASSWORD, "--status", "UNCONFIRMED", "--attribute", "email=una@example.com",
    )
    idp.admin_confirm_sign_up(UserPoolId=pool["id"], Username="una")
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="una")["UserStatus"] == "CONFIRMED"
    with pytest.raises(idp.exceptions.NotAuthorizedException, match="CONFIRMED"):
        idp.admin_confirm_sign_up(UserPoolId=pool["id"], Username="una")


def test_users_are_disabled_and_enabled_again(idp, pool):
    invite(idp, pool, "eve")
    idp.admin_disable_user(UserPoolId=pool["id"], Username="eve")
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="eve")["Enabled"] is False
    disabled = idp.list_users(UserPoolId=pool["id"], Filter='status = "Disabled"')["Users"]
    assert [u["Username"] for u in disabled] == ["eve"]
    idp.admin_enable_user(UserPoolId=pool["id"], Username="eve")
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="eve")["Enabled"] is True
    assert idp.list_users(UserPoolId=pool["id"], Filter='status = "Disabled"')["Users"] == []


def test_a_global_sign_out_answers_empty(idp, pool):
    invite(idp, pool, "gail")
    response = idp.admin_user_global_sign_out(UserPoolId=pool["id"], Username="gail")
    assert set(response) == {"ResponseMetadata"}


# Groups


def test_group_membership_is_added_listed_and_removed(idp, pool, server_env):
    invite(idp, pool, "gina")
    for name in ["admins", "beta", "crew", "devs", "editors"]:
        make_group(server_env, pool, name)
        idp.admin_add_user_to_group(UserPoolId=pool["id"], Username="gina", GroupName=name)
    idp.admin_add_user_to_group(UserPoolId=pool["id"], Username="gina", GroupName="admins")
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = idp.admin_list_groups_for_user(UserPoolId=pool["id"], Username="gina", Limit=2, **kwargs)
        assert len(page["Groups"]) <= 2
        seen += [g["GroupName"] for g in page["Groups"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ["admins", "beta", "crew", "devs", "editors"]
    idp.admin_remove_user_from_group(UserPoolId=pool["id"], Username="gina", GroupName="beta")
    groups = idp.admin_list_groups_for_user(UserPoolId=pool["id"], Username="gina")["Groups"]
    assert [g["GroupName"] for g in groups] == ["admins", "crew", "devs", "editors"]
    assert groups[0]["UserPoolId"] == pool["id"]


def test_an_unknown_group_is_a_missing_resource(idp, pool):
    invite(idp, pool, "gina")
    for call in (idp.admin_add_user_to_group, idp.admin_remove_user_from_group):
        with pytest.raises(idp.exceptions.ResourceNotFoundException):
            call(UserPoolId=pool["id"], Username="gina", GroupName="nope")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.list_users_in_group(UserPoolId=pool["id"], GroupName="nope")


def test_list_users_in_group_pages_through_the_members(idp, pool, server_env):
    make_group(server_env, pool, "team")
    members = [f"member-{i:02}" for i in range(7)]
    for name in members + ["outsider"]:
        invite(idp, pool, name)
    for name in members:
        idp.admin_add_user_to_group(UserPoolId=pool["id"], Username=name, GroupName="team")
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = idp.list_users_in_group(UserPoolId=pool["id"], GroupName="team", Limit=3, **kwargs)
        seen += [u["Username"] for u in page["Users"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == members


# Identity providers


def test_an_identity_is_linked_to_a_user_and_unlinked_again(idp, pool, server_env):
    add_google(server_env, pool)
    invite(idp, pool, "lena")
    source = {"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "1234567890"}
    idp.admin_link_provider_for_user(
        UserPoolId=pool["id"],
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "lena"},
        SourceUser=source,
    )
    with pytest.raises(idp.exceptions.InvalidParameterException, match="already linked"):
        idp.admin_link_provider_for_user(
            UserPoolId=pool["id"],
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "lena"},
            SourceUser=source,
        )
    idp.admin_disable_provider_for_user(UserPoolId=pool["id"], User=source)
    # The native user stays; only the link went.
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="lena")["Username"] == "lena"
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_disable_provider_for_user(UserPoolId=pool["id"], User=source)


def test_links_are_checked(idp, pool, server_env):
    add_google(server_env, pool)
    invite(idp, pool, "lena")
    subject = {"ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "42"}
    destination = {"ProviderName": "Cognito", "ProviderAttributeValue": "lena"}
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_link_provider_for_user(
            UserPoolId=pool["id"], DestinationUser=destination, SourceUser={"ProviderName": "Okta", **subject}
        )
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_link_provider_for_user(
            UserPoolId=pool["id"],
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "nobody"},
            SourceUser={"ProviderName": "Google", **subject},
        )
    with pytest.raises(idp.exceptions.InvalidParameterException, match="DestinationUser"):
        idp.admin_link_provider_for_user(
            UserPoolId=pool["id"],
            DestinationUser={"ProviderName": "Google", "ProviderAttributeValue": "lena"},
            SourceUser={"ProviderName": "Google", **subject},
        )
    with pytest.raises(idp.exceptions.InvalidParameterException, match="Cognito_Subject"):
        idp.admin_link_provider_for_user(
            UserPoolId=pool["id"],
            DestinationUser=destination,
            SourceUser={"ProviderName": "Google", "ProviderAttributeName": "email", "ProviderAttributeValue": "x"},
        )
    with pytest.raises(idp.exceptions.InvalidParameterException, match="AdminDisableUser"):
        idp.admin_disable_provider_for_user(
            UserPoolId=pool["id"], User={"ProviderName": "Cognito", **subject}
        )


def test_a_user_is_linked_to_at_most_five_identities(idp, pool, server_env):
    add_google(server_env, pool)
    invite(idp, pool, "lena")
    for n in range(6):
        call = lambda: idp.admin_link_provider_for_user(  # noqa: E731
            UserPoolId=pool["id"],
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "lena"},
            SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": f"s{n}"},
        )
        if n < 5:
            call()
        else:
            with pytest.raises(idp.exceptions.LimitExceededException):
                call()


# Unknown users and pools


@pytest.mark.parametrize("action, extra", ALL_ACTIONS_ON_A_USER)
def test_every_action_on_an_unknown_user_is_user_not_found(idp, pool, action, extra):
    with pytest.raises(idp.exceptions.UserNotFoundException, match="User does not exist."):
        getattr(idp, action)(UserPoolId=pool["id"], Username="ghost", **extra)


def test_group_actions_on_an_unknown_user_are_user_not_found(idp, pool, server_env):
    make_group(server_env, pool, "team")
    for call in (idp.admin_add_user_to_group, idp.admin_remove_user_from_group):
        with pytest.raises(idp.exceptions.UserNotFoundException):
            call(UserPoolId=pool["id"], Username="ghost", GroupName="team")


@pytest.mark.parametrize("action, extra", ALL_ACTIONS_ON_A_USER)
def test_every_action_on_an_unknown_pool_is_resource_not_found(idp, action, extra):
    with pytest.raises(idp.exceptions.ResourceNotFoundException, match="does not exist"):
        getattr(idp, action)(UserPoolId="us-east-1_NoSuchPool", Username="ghost", **extra)


def test_listings_and_creation_in_an_unknown_pool_are_resource_not_found(idp):
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.list_users(UserPoolId="us-east-1_NoSuchPool")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.list_users_in_group(UserPoolId="us-east-1_NoSuchPool", GroupName="g")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_create_user(UserPoolId="us-east-1_NoSuchPool", Username="u", MessageAction="SUPPRESS")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_users(UserPoolId="not a pool id")


def test_admin_actions_need_a_signature(server, pool):
    unsigned = make_client(server, signature_version=botocore.UNSIGNED)
    with pytest.raises(unsigned.exceptions.ClientError) as e:
        unsigned.list_users(UserPoolId=pool["id"])
    assert e.value.response["Error"]["Code"] != "ResourceNotFoundException"


# ListUsers over many users

CROWD = 260


@pytest.fixture(scope="module")
def crowd(server, server_env):
    """A pool of 260 users `member-000` … with alternating families and email domains,
    every seventh disabled."""
    idp = make_client(server)
    pool = make_pool(server_env)
    for i in range(CROWD):
        family = "Even" if i % 2 == 0 else "Odd"
        invite(
            idp, pool, f"member-{i:03}",
            email=f"member-{i:03}@{family.lower()}.example.com",
            family_name=family,
            given_name=f"Given {i}",
        )
        if i % 7 == 0:
            idp.admin_disable_user(UserPoolId=pool["id"], Username=f"member-{i:03}")
    return pool


def page_through(idp, pool, **kwargs):
    """Every page of a ListUsers; asserts each page's size and returns the users."""
    users, token, pages = [], None, 0
    while True:
        extra = {"PaginationToken": token} if token else {}
        page = idp.list_users(UserPoolId=pool["id"], Limit=60, **kwargs, **extra)
        assert len(page["Users"]) <= 60
        pages += 1
        users += page["Users"]
        token = page.get("PaginationToken")
        if not token:
            return users, pages
        assert len(page["Users"]) == 60, "only the last page is short"


def names(users):
    return [u["Username"] for u in users]


def once_each(users):
    seen = names(users)
    assert len(seen) == len(set(seen)), "a user was listed twice"
    assert seen == sorted(seen), "users are listed in username order"
    return set(seen)


def test_list_users_pages_through_every_user_exactly_once(idp, crowd):
    users, pages = page_through(idp, crowd)
    assert once_each(users) == {f"member-{i:03}" for i in range(CROWD)}
    assert pages == 5


def test_list_users_with_an_exact_filter_pages_through_its_matches(idp, crowd):
    users, pages = page_through(idp, crowd, Filter='family_name = "even"')
    assert once_each(users) == {f"member-{i:03}" for i in range(0, CROWD, 2)}
    assert pages == 3


def test_list_users_with_a_prefix_filter_pages_through_its_matches(idp, crowd):
    users, pages = page_through(idp, crowd, Filter='email ^= "MEMBER-1"')
    assert once_each(users) == {f"member-{i:03}" for i in range(100, 200)}
    assert pages == 2
    users, pages = page_through(idp, crowd, Filter='username ^= "member-2"')
    assert once_each(users) == {f"member-{i:03}" for i in range(200, CROWD)}
    assert pages == 1, "exactly one full page carries no token"


def test_list_users_returns_only_the_attributes_asked_for(idp, crowd):
    users, _ = page_through(idp, crowd, AttributesToGet=["email"], Filter='given_name ^= "Given 1"')
    expected = {f"member-{i:03}" for i in [1] + list(range(10, 20)) + list(range(100, 200))}
    assert once_each(users) == expected
    for user in users:
        assert [a["Name"] for a in user["Attributes"]] == ["email"]
    users, _ = page_through(idp, crowd, AttributesToGet=["sub", "family_name"], Filter='username = "member-003"')
    [user] = users
    assert [a["Name"] for a in user["Attributes"]] == ["sub", "family_name"]


def test_list_users_filters_on_status_sub_and_enabled(idp, crowd):
    users, _ = page_through(idp, crowd, Filter='cognito:user_status = "force_change_password"')
    assert len(once_each(users)) == CROWD
    users, _ = page_through(idp, crowd, Filter='status = "Disabled"')
    assert once_each(users) == {f"member-{i:03}" for i in range(0, CROWD, 7)}
    users, _ = page_through(idp, crowd, Filter='status = "Enabled"')
    assert len(once_each(users)) == CROWD - len(range(0, CROWD, 7))
    sub = attributes(idp.admin_get_user(UserPoolId=crowd["id"], Username="member-042")["UserAttributes"])["sub"]
    users, _ = page_through(idp, crowd, Filter=f'sub = "{sub}"')
    assert names(users) == ["member-042"]


# Matrix: LU-03
def test_list_users_limits_and_tokens_are_checked(idp, crowd):
    first = idp.list_users(UserPoolId=crowd["id"], Limit=1)
    assert names(first["Users"]) == ["member-000"]
    second = idp.list_users(UserPoolId=crowd["id"], Limit=1, PaginationToken=first["PaginationToken"])
    assert names(second["Users"]) == ["member-001"]
    assert len(idp.list_users(UserPoolId=crowd["id"])["Users"]) == 60
    for limit in (0, 61):
        with pytest.raises(idp.exceptions.InvalidParameterException, match="Limit"):
            idp.list_users(UserPoolId=crowd["id"], Limit=limit)
    with pytest.raises(idp.exceptions.InvalidParameterException, match="pagination token"):
        idp.list_users(UserPoolId=crowd["id"], PaginationToken="!!not-a-token!!")


# ListUsers filter grammar


# Matrix: LU-01
def test_filter_values_are_literal_text(idp, pool):
    invite(idp, pool, "rock", name='Dwayne "The Rock" Johnson')
    invite(idp, pool, "percent", name="100% real", nickname="x")
    invite(idp, pool, "underscore", name="a_b")
    invite(idp, pool, "plain", name="axb")
    invite(idp, pool, "backslash", name="back\\slash")

    def matching(filter_):
        return sorted(names(idp.list_users(UserPoolId=pool["id"], Filter=filter_)["Users"]))

    assert matching(r'name = "Dwayne \"The Rock\" Johnson"') == ["rock"]
    assert matching(r'name ^= "dwayne \"the"') == ["rock"]
    assert matching('name ^= "100%"') == ["percent"]
    assert matching('name ^= "a_"') == ["underscore"]
    assert matching('name ^= "a%"') == []
    assert matching(r'name = "back\\slash"') == ["backslash"]
    assert matching('name = ""') == []
    assert matching("") == ["backslash", "percent", "plain", "rock", "underscore"]


# Matrix: LU-02
@pytest.mark.parametrize(
    "filter_, message",
    [
        ('custom:team = "blue"', "Cannot filter on attribute"),
        ('nickname = "x"', "Cannot filter on attribute"),
        ('email == "x"', "double quotes"),
        ("email = x", "double quotes"),
        ('email ~= "x"', "= or \\^="),
        ('email = "x', "not closed"),
        ('email = "x" or name = "y"', "nothing may follow"),
        ('email = "a\\b"', "not an escape"),
    ],
)
def test_malformed_filters_are_invalid_parameters(idp, pool, filter_, message):
    with pytest.raises(idp.exceptions.InvalidParameterException, match=message):
        idp.list_users(UserPoolId=pool["id"], Filter=filter_)
