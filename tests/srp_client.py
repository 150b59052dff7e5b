"""pycognito's SRP client, driven offline, for the cross-check in src/users/srp.rs.

    srp_client.py POOL_ID USERNAME PASSWORD
        Prints {"SRP_A": hex} (what pycognito sends in InitiateAuth), then reads one JSON
        line with SALT, SRP_B, SECRET_BLOCK and USER_ID_FOR_SRP (the PASSWORD_VERIFIER
        challenge) and prints {"PASSWORD_CLAIM_SIGNATURE": .., "TIMESTAMP": ..} as
        pycognito's AWSSRP.process_challenge computes them.

    srp_client.py vector
        Prints a fixed test vector: the key pycognito derives for fixed a, b, salt and
        password, which the Rust unit tests pin without needing Python.

No network: AWSSRP gets a stand-in client object and only its offline methods run.
"""

import json
import sys

from pycognito import aws_srp


class NoClient:
    """AWSSRP wants a boto3 client; nothing here calls it."""


def converse(pool_id, username, password):
    srp = aws_srp.AWSSRP(
        username=username,
        password=password,
        pool_id=pool_id,
        client_id="cognate-test-client",
        client=NoClient(),
    )
    auth_params = srp.get_auth_params()
    print(json.dumps({"SRP_A": auth_params["SRP_A"]}), flush=True)
    challenge = json.loads(sys.stdin.readline())
    response = srp.process_challenge(challenge, auth_params)
    print(
        json.dumps(
            {
                "PASSWORD_CLAIM_SIGNATURE": response["PASSWORD_CLAIM_SIGNATURE"],
                "TIMESTAMP": response["TIMESTAMP"],
            }
        ),
        flush=True,
    )


def vector():
    pool_id = "us-east-1_AbC123xYz"
    username = "alice"
    password = "Correct horse 1!"
    # The salt's top bit is set, so padHex prepends a zero byte (as for Cognito's own salts).
    salt_hex = "8ce8291892390f6b53a245933faf6164"
    small_a = int("a1" * 64, 16)
    small_b = int("5e" * 32, 16)

    srp = aws_srp.AWSSRP(username, password, pool_id, "cognate-test-client", client=NoClient())
    srp.small_a_value = small_a
    srp.large_a_value = srp.calculate_a()

    # Server side, from pycognito's own helpers: v = g^x, B = k*v + g^b.
    n, g, k = srp.big_n, srp.val_g, srp.val_k
    user_hash = aws_srp.hash_sha256(f"{pool_id.split('_')[1]}{username}:{password}".encode())
    x = aws_srp.hex_to_long(aws_srp.hex_hash(aws_srp.pad_hex(salt_hex) + user_hash))
    v = pow(g, x, n)
    big_b = (k * v + pow(g, small_b, n)) % n

    key = srp.get_password_authentication_key(username, password, big_b, salt_hex)
    print(
        json.dumps(
            {
                "k": aws_srp.long_to_hex(k),
                "verifier": aws_srp.long_to_hex(v),
                "srp_a": aws_srp.long_to_hex(srp.large_a_value),
                "srp_b": aws_srp.long_to_hex(big_b),
                "key": key.hex(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["vector"]:
        vector()
    elif len(sys.argv) == 4:
        converse(*sys.argv[1:])
    else:
        sys.exit(__doc__)
