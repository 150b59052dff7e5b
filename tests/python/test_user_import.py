"""`cognate user import` (issue 17, item 2, the CLI part): JSON lines and Cognito's CSV
format, streamed; failed lines reported by number without stopping the import or
leaving a partial user; imported users sign in (with a hash) or reset (without)."""
import base64
import csv
import hashlib
import json
import subprocess

import pytest

from conftest import BINARY, SERVER_ENV, cognate_cli, outbox_code

LEGACY = "Legacy-pass-1"


def pbkdf2_sha256(password, salt=b"legacy-salt-1234", rounds=1000):
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")  # noqa: E731
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256$i={rounds},l=32${b64(salt)}${b64(digest)}"


def usernames(pool):
    return {u["username"] for u in cognate_cli("user", "list", "--pool", pool["id"])}


def test_json_lines_import_with_hashes_skips_taken_names_and_reports_bad_lines(server, unsigned, pool, tmp_path):
    cognate_cli("user", "create", "--pool", pool["id"], "--username", "taken", "--password", "Correct-horse-9")
    lines = [
        {"username": "imp-ann", "attributes": {"email": "imp-ann@example.com", "email_verified": "true"},
         "password_hash": pbkdf2_sha256(LEGACY)},
        {"username": "taken"},
        "this is not json",
        {"username": "imp-bad-attr", "attributes": {"custom:undeclared": "x"}, "password_hash": pbkdf2_sha256(LEGACY)},
        {"username": "imp-bad-hash", "password_hash": "$1$md5$nope"},
        {"username": "imp-confirmed-without-hash", "status": "CONFIRMED"},
        {"username": "imp-bob", "attributes": {"email": "imp-bob@example.com", "email_verified": "true"}},
    ]
    path = tmp_path / "users.jsonl"
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n")
    summary = cognate_cli("users", "import", "--pool", pool["id"], str(path))
    assert summary["imported"] == 2 and summary["skipped"] == 1
    assert [f["line"] for f in summary["failed"]] == [3, 4, 5, 6]
    assert "not a user record" in summary["failed"][0]["reason"]
    assert "custom:undeclared" in summary["failed"][1]["reason"]
    assert {"imp-ann", "imp-bob", "taken"} <= usernames(pool)
    assert not {"imp-bad-attr", "imp-bad-hash", "imp-confirmed-without-hash"} & usernames(pool)
    # With a hash: signs in with the old password.
    unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                           AuthParameters={"USERNAME": "imp-ann", "PASSWORD": LEGACY})
    # Without: RESET_REQUIRED, as Cognito imports; there is no password to check, so a
    # sign-in fails as a wrong password would, and a reset code sets the first password.
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "imp-bob", "PASSWORD": LEGACY})
    unsigned.forgot_password(ClientId=pool["client_id"], Username="imp-bob")
    unsigned.confirm_forgot_password(ClientId=pool["client_id"], Username="imp-bob",
                                     ConfirmationCode=outbox_code("imp-bob@example.com"), Password="Correct-horse-9")
    unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                           AuthParameters={"USERNAME": "imp-bob", "PASSWORD": "Correct-horse-9"})
    # A second import of the same file changes nothing.
    again = cognate_cli("users", "import", "--pool", pool["id"], str(path))
    assert again["imported"] == 0 and again["skipped"] == 3


def test_cognitos_csv_format_imports_and_fails_the_lines_it_must(server, idp, pool, tmp_path):
    # The file is made as for Cognito: GetCSVHeader's columns, one row per user.
    out = idp.get_csv_header(UserPoolId=pool["id"])
    header = out["CSVHeader"]
    assert out["UserPoolId"] == pool["id"]
    assert header[:3] == ["name", "given_name", "family_name"]
    assert header[-3:] == ["cognito:mfa_enabled", "cognito:username", "custom:team"]
    rows = [
        {"name": "Cara Diaz", "given_name": "Cara", "email": "cara@example.com", "email_verified": "true",
         "cognito:mfa_enabled": "false", "cognito:username": "imp-cara", "custom:team": "red"},
        {"email": "dan@example.com", "cognito:mfa_enabled": "true", "cognito:username": "imp-dan"},  # MFA
        {"email": "eve@example.com", "cognito:mfa_enabled": "false"},  # no username
        {"name": "Fay, Jr.", "email": "fay@example.com", "cognito:username": "imp-fay"},
    ]
    path = tmp_path / "users.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    summary = cognate_cli("users", "import", "--pool", pool["id"], str(path))
    assert summary["imported"] == 2 and summary["skipped"] == 0
    assert [f["line"] for f in summary["failed"]] == [3, 4]
    assert "MFA" in summary["failed"][0]["reason"] and "cognito:username" in summary["failed"][1]["reason"]
    cara = idp.admin_get_user(UserPoolId=pool["id"], Username="imp-cara")
    assert cara["UserStatus"] == "RESET_REQUIRED"
    attrs = {a["Name"]: a["Value"] for a in cara["UserAttributes"]}
    assert attrs["given_name"] == "Cara" and attrs["custom:team"] == "red"
    fay = idp.admin_get_user(UserPoolId=pool["id"], Username="imp-fay")
    assert {a["Name"]: a["Value"] for a in fay["UserAttributes"]}["name"] == "Fay, Jr."


def test_a_csv_without_a_username_column_is_refused_whole(server, pool, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("email\nx@example.com\n")
    out = subprocess.run([str(BINARY), "users", "import", "--pool", pool["id"], str(path)],
                         env=SERVER_ENV, capture_output=True, text=True)
    assert out.returncode != 0 and "cognito:username" in out.stderr


def test_a_large_batch_imports_exactly_its_good_lines(server, idp, unsigned, pool, tmp_path):
    # 2,500 lines, more than one batch: a name twice in the same batch (the second in
    # another case), a name the pool has, bad lines in the middle, and a row that passes
    # every check but that PostgreSQL refuses (NUL in text), which makes its batch go
    # user by user there. SQLite stores it.
    cognate_cli("user", "create", "--pool", pool["id"], "--username", "bulk-taken", "--password", "Correct-horse-9")
    on_postgres = SERVER_ENV["DATABASE_URL"].startswith("postgres")
    phc = pbkdf2_sha256(LEGACY)
    special = {
        700: {"username": "bulk-dup", "password_hash": phc},
        900: {"username": "BULK-DUP", "password_hash": phc},
        1000: "{not json",
        1200: {"username": "bulk-taken", "password_hash": phc},
        1300: {"username": "bulk-bad-attr", "attributes": {"custom:nope": "x"}},
        1400: {"username": "bulk-nul", "attributes": {"name": "a\u0000b"}, "password_hash": phc},
        1500: {"username": "bulk bad name"},
        2100: {"username": "bulk-bad-hash", "password_hash": "$2b$04$short"},
    }
    lines = [special.get(n, {"username": f"bulk-{n}", "attributes": {"email": f"bulk-{n}@example.com"},
                             "password_hash": phc})
             for n in range(1, 2501)]
    path = tmp_path / "large.jsonl"
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n")
    summary = cognate_cli("users", "import", "--pool", pool["id"], str(path))
    failed = [1000, 1300] + ([1400] if on_postgres else []) + [1500, 2100]
    assert [f["line"] for f in summary["failed"]] == failed
    assert summary["skipped"] == 2  # BULK-DUP (line 900) and bulk-taken
    assert summary["imported"] == 2500 - len(failed) - 2
    # ListUsers shows them with their attributes; an imported user signs in.
    pages = idp.get_paginator("list_users").paginate(UserPoolId=pool["id"], Filter='username ^= "bulk-2"')
    listed = [u for page in pages for u in page["Users"]]
    assert len(listed) == 1 + 10 + 100 + 501 - 1  # bulk-2, -2x, -2xx, -2000 to -2500 but -2100
    attrs = {a["Name"]: a["Value"] for a in next(u for u in listed if u["Username"] == "bulk-2499")["Attributes"]}
    assert attrs["email"] == "bulk-2499@example.com"
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="bulk-dup")["Username"] == "bulk-dup"
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool["id"], Username="bulk-bad-attr")
    assert password_auth_ok(unsigned, pool, "bulk-1999")
    assert password_auth_ok(unsigned, pool, "bulk-dup")


def password_auth_ok(unsigned, pool, username):
    out = unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": username, "PASSWORD": LEGACY})
    return out["AuthenticationResult"]["IdToken"]
