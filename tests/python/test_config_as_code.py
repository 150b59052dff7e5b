"""`cognate plan/apply/export` through the CLI (docs/config-as-code.md): a file's
problems are all listed and nothing changes; plan says what apply then does; a bcrypt
user declared in the file signs in through boto3 and is re-hashed (seen in an export
with hashes)."""
import json
import pathlib
import subprocess
import uuid

from conftest import BINARY, make_client

BCRYPT = "$2b$04$Vw6eHfWo.rsJ/9mE5NHd4.MmbN/b0mimiu1NU2VRP2I4h4cxcY08O"  # "Legacy-pass-1"


def run(env, *args):
    return subprocess.run([str(BINARY), *args], env=env, capture_output=True, text=True)


def pool_file(tmp, pool_id, client_id):
    path = pathlib.Path(tmp) / f"{pool_id}.yaml"
    path.write_text(
        f"""
pools:
  - id: {pool_id}
    name: cac-{pool_id[-6:]}
    groups: [{{name: staff}}]
    clients:
      - id: {client_id}
        name: backend
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    users:
      - username: legacy
        attributes: {{email: legacy@example.com, email_verified: "true"}}
        password_hash: "{BCRYPT}"
        groups: [staff]
"""
    )
    return path


def new_ids():
    return f"us-east-1_{uuid.uuid4().hex[:9]}", f"cac{uuid.uuid4().hex[:20]}"


def test_an_invalid_file_lists_every_problem_and_changes_nothing(server, server_env, tmp_path):
    # Arrange: four mistakes in one file.
    path = tmp_path / "bad.yaml"
    path.write_text(
        """
pools:
  - id: not-a-pool-id
    name: bad
    settings: {password_policy: {minimum_lenght: 9}}
    clients:
      - {name: web, callbak_urls: [https://x.example/cb]}
    users:
      - {username: ann, groups: [nobody]}
"""
    )
    # Act
    out = run(server_env, "plan", "-f", str(path))
    applied = run(server_env, "apply", "-f", str(path))
    # Assert
    assert out.returncode == 1 and applied.returncode == 1
    for problem in [
        "pools[0].id",
        "pools[0].settings.password_policy.minimum_lenght: unknown key",
        "pools[0].clients[0].callbak_urls: unknown key",
        "pools[0].users[0].groups: group nobody is not declared in this pool",
    ]:
        assert f"{path}: {problem}" in out.stderr, out.stderr
    assert "bad" not in [p["name"] for p in json.loads(run(server_env, "pool", "list").stdout)]


def test_plan_shows_what_apply_does_and_then_nothing(server, server_env, tmp_path):
    pool_id, client_id = new_ids()
    path = pool_file(tmp_path, pool_id, client_id)
    planned = run(server_env, "plan", "-f", str(path))
    assert planned.returncode == 0, planned.stderr
    for line in ["  + pool cac-", "  + group staff", "  + client backend", "  + user legacy"]:
        assert line in planned.stdout, planned.stdout
    applied = run(server_env, "apply", "-f", str(path))
    assert "Applied 4 change(s)." in applied.stdout, applied.stdout
    again = run(server_env, "apply", "-f", str(path))
    assert "No changes." in again.stdout, again.stdout
    # A change to the file is a change of the named fields only.
    path.write_text(path.read_text().replace("name: backend", "name: backend\n        auth_session_validity: 5"))
    changed = run(server_env, "plan", "-f", str(path))
    assert "  ~ client backend: auth_session_validity" in changed.stdout, changed.stdout


def test_a_declared_bcrypt_user_signs_in_through_boto3_and_is_rehashed(server, server_env, tmp_path):
    # Arrange
    pool_id, client_id = new_ids()
    path = pool_file(tmp_path, pool_id, client_id)
    assert run(server_env, "apply", "-f", str(path)).returncode == 0
    idp = make_client(server)

    def stored_hash():
        out = run(server_env, "export", "--pool", pool_id, "--with-password-hashes", "--format", "json")
        assert out.returncode == 0, out.stderr
        assert "password hashes" in out.stderr  # the warning
        (user,) = json.loads(out.stdout)["pools"][0]["users"]
        return user["password_hash"]

    assert stored_hash() == BCRYPT
    # Act
    res = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "legacy", "PASSWORD": "Legacy-pass-1"},
    )
    # Assert
    assert "IdToken" in res["AuthenticationResult"]
    assert stored_hash().startswith("$argon2id$")
    # The declared group is in the token, and the re-hash is no change to the file.
    assert "No changes." in run(server_env, "plan", "-f", str(path)).stdout
