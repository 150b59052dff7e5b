"""Password hashes from other systems (issue 17, item 3): a user created with a bcrypt or
PBKDF2 hash (by the CLI, or by a user import job's CSV) signs in through boto3 with the
old password, and at that first sign-in the hash becomes the pool's argon2id with an SRP
verifier, so SRP (pycognito), which the imported hash cannot serve, works from then on."""
import base64
import hashlib
import sqlite3
import subprocess

import pytest
from pycognito.aws_srp import AWSSRP

from conftest import BINARY, SERVER_ENV, cognate_cli
from test_import_jobs import csv_text, new_job, run_to_end, upload

LEGACY = "Legacy-pass-1"
# bcrypt of LEGACY, cost 4, made by libxcrypt's crypt(3) (what PHP and glibc systems export).
BCRYPT = "$2b$04$Vw6eHfWo.rsJ/9mE5NHd4.MmbN/b0mimiu1NU2VRP2I4h4cxcY08O"


def pbkdf2_sha256(password, salt=b"legacy-salt-1234", rounds=1000):
    """A PHC string as passlib and Django-style exporters write it."""
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")  # noqa: E731
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256$i={rounds},l=32${b64(salt)}${b64(digest)}"


def password_auth(unsigned, pool, username, password):
    return unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": username, "PASSWORD": password})


def srp(unsigned, pool, username, password):
    return AWSSRP(username=username, password=password, pool_id=pool["id"], client_id=pool["client_id"],
                  client=unsigned).authenticate_user()


@pytest.mark.parametrize("name, phc", [("bea", BCRYPT), ("pip", pbkdf2_sha256(LEGACY))])
def test_an_imported_hash_signs_in_with_the_old_password_and_becomes_argon2id(server, idp, unsigned, pool, name, phc):
    cognate_cli("user", "create", "--pool", pool["id"], "--username", name, "--password-hash", phc,
                "--attribute", f"email={name}@example.com")
    # The imported hash cannot serve SRP: no verifier until the password is proven.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        srp(unsigned, pool, name, LEGACY)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        password_auth(unsigned, pool, name, "Wrong-pass-1")
    assert password_auth(unsigned, pool, name, LEGACY)["AuthenticationResult"]["IdToken"]
    # Re-hashed to argon2id, with an SRP verifier: SRP signs in now, the old password
    # still works, a wrong one still does not.
    assert srp(unsigned, pool, name, LEGACY)["AuthenticationResult"]["IdToken"]
    assert password_auth(unsigned, pool, name, LEGACY)["AuthenticationResult"]["IdToken"]
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        password_auth(unsigned, pool, name, "Wrong-pass-1")


@pytest.mark.parametrize("phc, why", [
    ("plain-text", "not a PHC string"),
    ("$1$salt$md5cryptmd5cryptmd5cry", "not a PHC string"),
    ("$2b$31$" + BCRYPT[7:], "cost from 4 to 15"),
    (pbkdf2_sha256(LEGACY).replace("i=1000,", "i=100000000,"), "costs too much"),
])
def test_a_hash_cognate_cannot_verify_or_afford_is_refused(server, pool, phc, why):
    out = subprocess.run([str(BINARY), "user", "create", "--pool", pool["id"], "--username", "bad",
                          "--password-hash", phc], env=SERVER_ENV, capture_output=True, text=True)
    assert out.returncode != 0 and why in out.stderr, out.stderr
    assert all(u["username"] != "bad" for u in cognate_cli("user", "list", "--pool", pool["id"]))


def stored_hash(pool, username):
    """The password hash the server's database holds for a user (SQLite or PostgreSQL)."""
    url = SERVER_ENV["DATABASE_URL"]
    sql = "select password_hash from users where pool_id = '{}' and username = '{}'".format(pool["id"], username)
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return db.execute(sql).fetchone()[0]
    return subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True, check=True).stdout.strip()


def test_a_bcrypt_hash_imported_by_an_import_job_signs_in_and_becomes_argon2id(idp, unsigned, pool):
    # cognate's password_hash column beside Cognito's; PasswordHashingAlgorithm is reported back.
    header = idp.get_csv_header(UserPoolId=pool["id"])["CSVHeader"] + ["password_hash"]
    job = new_job(idp, pool, PasswordHashingAlgorithm="BCRYPT")
    rows = [{"cognito:username": "cid", "email": "cid@example.com", "email_verified": "true",
             "password_hash": BCRYPT}]
    assert upload(job, csv_text(header, rows)).status_code == 200
    done = run_to_end(idp, pool, job)
    assert done["ImportedUsers"] == 1 and done["PasswordHashingAlgorithm"] == "BCRYPT", done
    assert stored_hash(pool, "cid") == BCRYPT
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        password_auth(unsigned, pool, "cid", "Wrong-pass-1")
    assert password_auth(unsigned, pool, "cid", LEGACY)["AuthenticationResult"]["IdToken"]
    assert stored_hash(pool, "cid").startswith("$argon2id$")
    assert srp(unsigned, pool, "cid", LEGACY)["AuthenticationResult"]["IdToken"]
    assert password_auth(unsigned, pool, "cid", LEGACY)["AuthenticationResult"]["IdToken"]
