"""A challenge begun before AdminDisableUser cannot be finished after it (the outside
probe's PR-05): RespondToAuthChallenge re-checks the user as the directory has it now."""
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import answer_new_password, start_new_password_challenge

TEMPORARY = "Temp-pass-123"
CHOSEN = "Chosen-pass-123"


# Matrix: PR-05
@pytest.mark.parametrize("surface", ["user", "admin"])
def test_a_user_disabled_mid_challenge_cannot_finish_it(idp, unsigned, pool, surface):
    # Arrange: an administrator-created user at the new-password challenge.
    username = f"gus-{uuid.uuid4().hex[:6]}"
    idp.admin_create_user(UserPoolId=pool["id"], Username=username, TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    challenge = start_new_password_challenge(idp, unsigned, pool, username, TEMPORARY, surface)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    # Act: disabled, then the challenge is answered.
    idp.admin_disable_user(UserPoolId=pool["id"], Username=username)
    with pytest.raises(ClientError) as refused:
        answer_new_password(idp, unsigned, pool, username, challenge["Session"], CHOSEN, surface)

    # Assert: refused as Cognito refuses a disabled user, with no tokens; nothing changed.
    error = refused.value.response["Error"]
    assert error["Code"] == "NotAuthorizedException"
    assert error["Message"] == "User is disabled."
    assert "AuthenticationResult" not in refused.value.response
    user = idp.admin_get_user(UserPoolId=pool["id"], Username=username)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user["Enabled"] is False
    # Once enabled again, the temporary password still leads to the challenge, and the
    # password that was refused was never stored.
    idp.admin_enable_user(UserPoolId=pool["id"], Username=username)
    assert start_new_password_challenge(idp, unsigned, pool, username, TEMPORARY, surface)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(ClientError) as wrong:
        unsigned.initiate_auth(
            ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": CHOSEN}
        )
    assert wrong.value.response["Error"]["Code"] == "NotAuthorizedException"
