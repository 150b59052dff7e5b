"""AdminListUserAuthEvents through boto3 (issue 20): a user's sign-ins, sign-up, password
change and reset come back in Cognito's AuthEventType shape (botocore validates every
answer against its model), newest first, paged with NextToken; an API key's changes are
recorded as admin changes naming the key."""
import json
import subprocess
import time
import uuid

import pytest

from conftest import BINARY, KEY_ID, PASSWORD, create_user


def auth_events(idp, pool, username, **kwargs):
    return idp.admin_list_user_auth_events(UserPoolId=pool["id"], Username=username, **kwargs)


def wait_for(idp, pool, username, count):
    """The user's events once `count` are written (the writer runs in the background)."""
    for _ in range(100):
        events = auth_events(idp, pool, username)["AuthEvents"]
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} events: {events}")


def test_a_users_sign_ins_and_password_change_list_in_cognitos_shape(idp, unsigned, pool):
    # Arrange: a failed and a good sign-in, then a password change.
    name = f"ev-{uuid.uuid4().hex[:8]}"
    create_user(idp, pool, name)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": name, "PASSWORD": "Wrong-horse-9"})
    out = unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
    unsigned.change_password(AccessToken=out["AuthenticationResult"]["AccessToken"],
                             PreviousPassword=PASSWORD, ProposedPassword="Changed-horse-9")
    # Act
    events = wait_for(idp, pool, name, 3)
    # Assert: newest first; tokens issued and admin changes are not Cognito event types.
    assert [(e["EventType"], e["EventResponse"]) for e in events] == [
        ("PasswordChange", "Pass"), ("SignIn", "Pass"), ("SignIn", "Fail")]
    assert events[1]["ChallengeResponses"] == [{"ChallengeName": "Password", "ChallengeResponse": "Success"}]
    assert events[2]["ChallengeResponses"] == [{"ChallengeName": "Password", "ChallengeResponse": "Failure"}]
    assert events[1]["EventContextData"]["IpAddress"] == "127.0.0.1"
    assert len({e["EventId"] for e in events}) == 3
    assert all(abs(e["CreationDate"].timestamp() - time.time()) < 120 for e in events)


def test_pages_follow_each_other_and_an_unknown_user_is_refused(idp, unsigned, pool):
    name = f"ev-{uuid.uuid4().hex[:8]}"
    create_user(idp, pool, name)
    for _ in range(3):
        with pytest.raises(unsigned.exceptions.NotAuthorizedException):
            unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": name, "PASSWORD": "Wrong-horse-9"})
    everything = wait_for(idp, pool, name, 3)
    first = auth_events(idp, pool, name, MaxResults=2)
    assert len(first["AuthEvents"]) == 2 and "NextToken" in first
    second = auth_events(idp, pool, name, MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in second
    paged = [e["EventId"] for e in first["AuthEvents"] + second["AuthEvents"]]
    assert paged == [e["EventId"] for e in everything]
    with pytest.raises(idp.exceptions.UserNotFoundException):
        auth_events(idp, pool, "nobody-here")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        auth_events(idp, pool, name, NextToken="bm90LWEtdG9rZW4")


def test_an_api_keys_change_is_an_admin_event_naming_the_key(idp, pool, server_env):
    # Act
    group = f"g-{uuid.uuid4().hex[:8]}"
    idp.create_group(UserPoolId=pool["id"], GroupName=group)
    idp.list_groups(UserPoolId=pool["id"])
    # Assert: one change (the read is none), by the key, naming the group.
    for _ in range(100):
        out = subprocess.run([str(BINARY), "events", "--pool", pool["id"], "--kind", "admin_change"],
                             env=server_env, capture_output=True, text=True, check=True).stdout
        changes = [json.loads(line) for line in out.splitlines()]
        changes = [c for c in changes if c.get("target") == group]
        if changes:
            break
        time.sleep(0.05)
    assert len(changes) == 1, changes
    assert changes[0]["actor"] == KEY_ID
    assert changes[0]["action"] == "CreateGroup"
    assert changes[0]["outcome"] == "pass"
