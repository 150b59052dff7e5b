"""aws_cognito_user_pool_domain's call sequence, replayed with boto3: create → wait for
ACTIVE → read → update → wait → read → delete → wait for NotFound, with the bodies the
provider sends and assertions on the fields it reads.

The sequence comes from hashicorp/terraform-provider-aws,
internal/service/cognitoidp/user_pool_domain.go, the SDK v2 copy of 2024 read for
../shared/research/terraform-cognito.md §4 (provider v5.x), plus `ManagedLoginVersion`,
which newer releases (v5.8x and v6.x, after the 2026 acceptance test) send and read:
- Create: CreateUserPoolDomain{Domain, UserPoolId[, CustomDomainConfig{CertificateArn}]
  [, ManagedLoginVersion]}, then DescribeUserPoolDomain until Status is ACTIVE
  (pending CREATING/UPDATING), then Read.
- Read: DescribeUserPoolDomain{Domain}. NotFound is ResourceNotFoundException, no
  DomainDescription, or an empty Status (AWS answers `{"DomainDescription": {}}`).
  Reads AWSAccountId, CustomDomainConfig.CertificateArn ("" when absent),
  CloudFrontDistribution, S3Bucket, UserPoolId, Version, ManagedLoginVersion.
- Update (certificate or managed login version): UpdateUserPoolDomain{Domain,
  UserPoolId, CustomDomainConfig{CertificateArn}}, CustomDomainConfig always sent (an
  empty ARN for a prefix domain), then waits for ACTIVE.
- Delete: DeleteUserPoolDomain{Domain, UserPoolId}; ignores only
  InvalidParameterException containing "No such domain"; waits until NotFound.
"""
import http.client
import json
import time
import uuid

import pytest

from conftest import make_client, new_server_env, run_server

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"


@pytest.fixture
def tf(server):
    """A client without parameter validation, as the provider's Go SDK: it sends an
    empty CertificateArn for a prefix domain, which boto3 would refuse client-side."""
    return make_client(server, parameter_validation=False)


def find_domain(idp, domain):
    """The provider's findUserPoolDomain: the description, or None for NotFound."""
    try:
        d = idp.describe_user_pool_domain(Domain=domain).get("DomainDescription")
    except idp.exceptions.ResourceNotFoundException:
        return None
    return d if d and d.get("Status", "") != "" else None


def wait_for_status(idp, domain, target="ACTIVE", pending=("CREATING", "UPDATING"), timeout=60):
    """The provider's waiters: poll until `target`, failing on anything unexpected."""
    deadline = time.time() + timeout
    while True:
        d = find_domain(idp, domain)
        status = d["Status"] if d else None
        if status == target:
            return d
        assert status in pending, f"unexpected domain status {status!r}"
        assert time.time() < deadline, f"{domain} never became {target}"
        time.sleep(1)


def wait_for_deleted(idp, domain, timeout=60):
    deadline = time.time() + timeout
    while (d := find_domain(idp, domain)) is not None:
        assert d["Status"] in ("UPDATING", "DELETING"), d
        assert time.time() < deadline, f"{domain} was never deleted"
        time.sleep(1)


def delete_domain(idp, domain, pool_id):
    """The provider's delete: "No such domain" counts as already deleted."""
    try:
        idp.delete_user_pool_domain(Domain=domain, UserPoolId=pool_id)
    except idp.exceptions.InvalidParameterException as e:
        if "No such domain" not in str(e):
            raise
    wait_for_deleted(idp, domain)


def assert_readable(d, pool_id, domain, certificate=None, managed_login_version=1):
    """What the provider's Read sets from the description."""
    assert d["UserPoolId"] == pool_id
    assert d["Domain"] == domain
    assert d["Status"] == "ACTIVE"
    assert d["AWSAccountId"].isdigit() and len(d["AWSAccountId"]) == 12
    assert d["CloudFrontDistribution"]
    assert d["S3Bucket"]
    assert len(d["Version"]) == 14 and d["Version"].isdigit()
    assert d["ManagedLoginVersion"] == managed_login_version
    assert d.get("CustomDomainConfig", {}).get("CertificateArn", "") == (certificate or "")


def test_a_prefix_domain_goes_through_create_read_update_read_delete(tf, pool):
    prefix = f"tf-{uuid.uuid4().hex[:12]}"

    # Create, then the waiter, then Read.
    created = tf.create_user_pool_domain(Domain=prefix, UserPoolId=pool["id"])
    assert created["ManagedLoginVersion"] == 1
    assert "CloudFrontDomain" not in created
    assert_readable(wait_for_status(tf, prefix), pool["id"], prefix)
    assert tf.describe_user_pool(UserPoolId=pool["id"])["UserPool"]["Domain"] == prefix

    # Update: managed_login_version; CustomDomainConfig is always sent (empty ARN).
    updated = tf.update_user_pool_domain(
        Domain=prefix,
        UserPoolId=pool["id"],
        CustomDomainConfig={"CertificateArn": ""},
        ManagedLoginVersion=2,
    )
    assert updated["ManagedLoginVersion"] == 2
    assert_readable(wait_for_status(tf, prefix, pending=("UPDATING",)), pool["id"], prefix, managed_login_version=2)

    # Delete, then NotFound: an empty description, and a second delete is "No such domain".
    delete_domain(tf, prefix, pool["id"])
    assert tf.describe_user_pool_domain(Domain=prefix)["DomainDescription"] == {}
    with pytest.raises(tf.exceptions.InvalidParameterException, match="No such domain"):
        tf.delete_user_pool_domain(Domain=prefix, UserPoolId=pool["id"])
    assert "Domain" not in tf.describe_user_pool(UserPoolId=pool["id"])["UserPool"]


def test_a_custom_domain_goes_through_create_read_update_read_delete(idp, pool):
    domain = f"auth-{uuid.uuid4().hex[:8]}.example.com"

    created = idp.create_user_pool_domain(
        Domain=domain,
        UserPoolId=pool["id"],
        CustomDomainConfig={"CertificateArn": CERTIFICATE},
    )
    # The target of the domain's DNS alias: cognate's own host.
    assert created["CloudFrontDomain"] == "127.0.0.1"
    assert_readable(wait_for_status(idp, domain), pool["id"], domain, certificate=CERTIFICATE)
    assert idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]["CustomDomain"] == domain

    renewed = CERTIFICATE.replace("EXAMPLE11111", "EXAMPLE22222")
    idp.update_user_pool_domain(
        Domain=domain, UserPoolId=pool["id"], CustomDomainConfig={"CertificateArn": renewed}
    )
    assert_readable(wait_for_status(idp, domain, pending=("UPDATING",)), pool["id"], domain, certificate=renewed)

    delete_domain(idp, domain, pool["id"])
    assert find_domain(idp, domain) is None


def test_domain_errors_are_the_ones_the_provider_matches(idp, pool):
    prefix = f"tf-{uuid.uuid4().hex[:12]}"
    idp.create_user_pool_domain(Domain=prefix, UserPoolId=pool["id"])
    other = idp.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    # A taken name, whichever pool asks (Cognito's message).
    with pytest.raises(idp.exceptions.InvalidParameterException, match="Domain already associated with another user pool"):
        idp.create_user_pool_domain(Domain=prefix, UserPoolId=other)
    with pytest.raises(idp.exceptions.InvalidParameterException, match="reserved word: aws"):
        idp.create_user_pool_domain(Domain="my-aws-login", UserPoolId=other)
    # Deleting through the wrong pool deletes nothing.
    with pytest.raises(idp.exceptions.InvalidParameterException, match="No such domain"):
        idp.delete_user_pool_domain(Domain=prefix, UserPoolId=other)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.create_user_pool_domain(Domain=f"x{prefix}", UserPoolId="us-east-1_Nobody123")
    assert find_domain(idp, prefix)["UserPoolId"] == pool["id"]
    assert idp.describe_user_pool_domain(Domain="never-created-anywhere")["DomainDescription"] == {}
    delete_domain(idp, prefix, pool["id"])


@pytest.fixture(scope="module")
def domain_server():
    """A server whose prefix domains live under example.test (COGNATE_DOMAIN_BASE)."""
    env = new_server_env(COGNATE_DOMAIN_BASE="example.test")
    yield from run_server(env)


def test_a_prefix_domain_serves_discovery_at_its_host(domain_server):
    idp = make_client(domain_server)
    pool_id = idp.create_user_pool(PoolName="served")["UserPool"]["Id"]
    idp.create_user_pool_domain(Domain="served-app", UserPoolId=pool_id)
    port = int(domain_server.rsplit(":", 1)[1])

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "GET",
        "/.well-known/openid-configuration",
        headers={"Host": f"served-app.auth.example.test:{port}"},
    )
    res = conn.getresponse()
    doc = json.loads(res.read())

    assert res.status == 200
    assert doc["issuer"] == f"http://served-app.auth.example.test:{port}"
    assert doc["token_endpoint"] == f"http://served-app.auth.example.test:{port}/oauth2/token"
