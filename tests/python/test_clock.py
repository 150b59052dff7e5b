"""The test clock (`serve --test-clock`): expiry checked from outside the process
without sleeping, and the endpoint absent unless switched on."""
import urllib.error
import uuid

import botocore
import pytest

from conftest import PASSWORD, advance_clock, cognate_cli, make_client, outbox_code


# Matrix: HU-09
def test_a_sign_up_code_expires_after_24_hours_on_the_test_clock(clock_server):
    url, env = clock_server
    idp = make_client(url)
    unsigned = make_client(url, signature_version=botocore.UNSIGNED)
    pool_id = idp.create_user_pool(PoolName="clock")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    email = f"clock-{uuid.uuid4().hex[:8]}@example.com"
    attributes = [{"Name": "email", "Value": email}]
    unsigned.sign_up(ClientId=client_id, Username="tess", Password=PASSWORD, UserAttributes=attributes)
    code = outbox_code(email, env=env)

    advance_clock(url, 24 * 3600 + 1)
    with pytest.raises(unsigned.exceptions.ExpiredCodeException):
        unsigned.confirm_sign_up(ClientId=client_id, Username="tess", ConfirmationCode=code)
    # SigV4 dates are checked against the moved clock too, so read the user with the CLI.
    assert status(env, pool_id, "tess") == "UNCONFIRMED"

    # A new code works.
    unsigned.resend_confirmation_code(ClientId=client_id, Username="tess")
    unsigned.confirm_sign_up(ClientId=client_id, Username="tess", ConfirmationCode=outbox_code(email, env=env))
    assert status(env, pool_id, "tess") == "CONFIRMED"


def status(env, pool_id, username):
    users = cognate_cli("user", "list", "--pool", pool_id, env=env)
    return next(u["status"] for u in users if u["username"] == username)


def test_the_clock_endpoint_does_not_exist_without_the_switch(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        advance_clock(server, 60)
    assert err.value.code in (404, 405)
