"""A pending NEW_PASSWORD_REQUIRED step ends at any change of the user's password or
status (the second probe's PS-04): a leaked temporary password taken to the challenge
cannot set its own password after an administrator acted."""
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import answer_new_password, start_new_password_challenge

TEMPORARY = "Temp-pass-123"
ADMINS = "Admins-pass-456"
CHOSEN = "Chosen-pass-789"


def signs_in(unsigned, pool, username, password):
    """Whether `password` signs `username` in (tokens or the new-password challenge)."""
    try:
        unsigned.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NotAuthorizedException", e.response
        return False


def admin_change(idp, pool, username, change):
    if change == "temporary":
        idp.admin_set_user_password(UserPoolId=pool["id"], Username=username, Password=ADMINS, Permanent=False)
    elif change == "permanent":
        idp.admin_set_user_password(UserPoolId=pool["id"], Username=username, Password=ADMINS, Permanent=True)
    else:
        idp.admin_disable_user(UserPoolId=pool["id"], Username=username)
        idp.admin_enable_user(UserPoolId=pool["id"], Username=username)


# Matrix: PS-04
@pytest.mark.parametrize("surface", ["user", "admin"])
@pytest.mark.parametrize("change", ["temporary", "permanent", "disable-enable"])
def test_a_pending_new_password_challenge_ends_at_an_administrators_change(idp, unsigned, pool, surface, change):
    # Arrange: a leaked temporary password taken to the new-password challenge.
    username = f"gus-{uuid.uuid4().hex[:6]}"
    idp.admin_create_user(UserPoolId=pool["id"], Username=username, TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    challenge = start_new_password_challenge(idp, unsigned, pool, username, TEMPORARY, surface)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    status_before = "CONFIRMED" if change == "permanent" else "FORCE_CHANGE_PASSWORD"

    # Act: the administrator acts, then the challenge is answered.
    admin_change(idp, pool, username, change)
    with pytest.raises(ClientError) as refused:
        answer_new_password(idp, unsigned, pool, username, challenge["Session"], CHOSEN, surface)

    # Assert: refused as Cognito refuses an expired session, with no tokens; the
    # attacker's password was never stored and the administrator's change stands.
    error = refused.value.response["Error"]
    assert error["Code"] == "NotAuthorizedException"
    assert error["Message"] == "Invalid session for the user, session is expired."
    assert "AuthenticationResult" not in refused.value.response
    user = idp.admin_get_user(UserPoolId=pool["id"], Username=username)
    assert user["UserStatus"] == status_before
    assert user["Enabled"] is True
    assert not signs_in(unsigned, pool, username, CHOSEN)
    expected = TEMPORARY if change == "disable-enable" else ADMINS
    assert signs_in(unsigned, pool, username, expected)
