"""The security matrix rows that live at the Cognito JSON API (docs: SECURITY_MATRIX.md):
SigV4 (SV-*), client URL hardening (RD-05), ListUsers injection (LU-*) and username
normalisation (UN-01). Malformed signatures come from a hand-rolled signer, so each
part of the Authorization header can be broken on purpose.
"""
import base64
import datetime
import hashlib
import hmac
import json
import pathlib
import urllib.error
import urllib.parse
import urllib.request
import uuid

import botocore
import pytest

from conftest import KEY_ID, PASSWORD, SECRET, make_client

TARGET = "AWSCognitoIdentityProviderService."


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_headers_for(server, action, body, *, key=KEY_ID, secret=SECRET, when=None, region="us-east-1",
                       service="cognito-idp", scope_date=None, terminator="aws4_request",
                       signed=("content-type", "host", "x-amz-date", "x-amz-target"),
                       algorithm="AWS4-HMAC-SHA256", authorization=None):
    """The headers of a SigV4-signed AWS JSON 1.1 call, every part overridable."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/x-amz-json-1.1",
        "host": urllib.parse.urlparse(server).netloc,
        "x-amz-date": amz_date,
        "x-amz-target": TARGET + action,
    }
    canonical_headers = "".join(f"{h}:{headers[h]}\n" for h in signed)
    signed_list = ";".join(signed)
    canonical = "\n".join(["POST", "/", "", canonical_headers, signed_list, hashlib.sha256(body).hexdigest()])
    date = scope_date or amz_date[:8]
    scope = f"{date}/{region}/{service}/{terminator}"
    to_sign = "\n".join([algorithm, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, terminator):
        k = _hmac(k, part)
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = authorization or (
        f"{algorithm} Credential={key}/{scope}, SignedHeaders={signed_list}, Signature={signature}"
    )
    return headers


def send(server, headers, body):
    """Posts to the API; (status, parsed JSON body)."""
    req = urllib.request.Request(server + "/", data=body, headers={k: v for k, v in headers.items() if k != "host"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def call(server, action, params, **sign):
    body = json.dumps(params).encode()
    return send(server, signed_headers_for(server, action, body, **sign), body)


def exists(idp, pool, username):
    try:
        idp.admin_get_user(UserPoolId=pool["id"], Username=username)
        return True
    except idp.exceptions.UserNotFoundException:
        return False


# --- SigV4 ---------------------------------------------------------------------------


def _create(pool, name):
    return {"UserPoolId": pool["id"], "Username": name, "MessageAction": "SUPPRESS"}


# Matrix: SV-01
def test_missing_or_malformed_authorization_is_refused_and_nothing_runs(server, idp, pool):
    name = "sv01"
    body = json.dumps(_create(pool, name)).encode()
    good = signed_headers_for(server, "AdminCreateUser", body)
    auth = good["authorization"]
    cred, signed, sig = auth.split(" ", 1)[1].split(", ")
    cases = {
        "no authorization": ({k: v for k, v in good.items() if k != "authorization"}, "MissingAuthenticationTokenException"),
        "no x-amz-date": ({k: v for k, v in good.items() if k != "x-amz-date"}, "IncompleteSignatureException"),
        "no Credential": (dict(good, authorization=f"AWS4-HMAC-SHA256 {signed}, {sig}"), "IncompleteSignatureException"),
        "no SignedHeaders": (dict(good, authorization=f"AWS4-HMAC-SHA256 {cred}, {sig}"), "IncompleteSignatureException"),
        "no Signature": (dict(good, authorization=f"AWS4-HMAC-SHA256 {cred}, {signed}"), "IncompleteSignatureException"),
        "duplicated Credential": (dict(good, authorization=f"AWS4-HMAC-SHA256 {cred}, {cred}, {signed}, {sig}"), "IncompleteSignatureException"),
        "wrong algorithm": (dict(good, authorization=auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")), None),
        "not sigv4 at all": (dict(good, authorization="Bearer abc"), None),
    }
    for what, (headers, expected) in cases.items():
        status, out = send(server, headers, body)
        assert status == 400, what
        assert out["__type"] in {"MissingAuthenticationTokenException", "IncompleteSignatureException",
                                 "InvalidSignatureException"}, (what, out)
        if expected:
            assert out["__type"] == expected, (what, out)
        assert not exists(idp, pool, name), what
    # The same request, correctly signed, does run: the cases above could have.
    assert send(server, good, body)[0] == 200
    assert exists(idp, pool, name)


# Matrix: SV-02
def test_an_unknown_key_and_a_wrong_secret_are_named_as_aws_does(server, pool):
    params = {"UserPoolId": pool["id"]}
    status, out = call(server, "ListUsers", params, key="AKIDNOSUCHKEY")
    assert (status, out["__type"]) == (400, "UnrecognizedClientException")
    assert out["message"] == "The security token included in the request is invalid."
    status, out = call(server, "ListUsers", params, secret="not-the-secret")
    assert (status, out["__type"]) == (400, "InvalidSignatureException")


# Matrix: SV-03
def test_dates_outside_five_minutes_are_refused_and_replays_do_not_repeat(server, idp, pool):
    now = datetime.datetime.now(datetime.timezone.utc)
    params = {"UserPoolId": pool["id"]}
    for minutes in (-6, 6):
        status, out = call(server, "ListUsers", params, when=now + datetime.timedelta(minutes=minutes))
        assert (status, out["__type"]) == (400, "InvalidSignatureException"), minutes
        assert "Signature expired" in out["message"] or "not yet current" in out["message"], out
    for minutes in (-4, 4):
        assert call(server, "ListUsers", params, when=now + datetime.timedelta(minutes=minutes))[0] == 200, minutes
    # A byte-identical replay of a non-idempotent call has no second effect.
    body = json.dumps(_create(pool, "sv03")).encode()
    headers = signed_headers_for(server, "AdminCreateUser", body)
    assert send(server, headers, body)[0] == 200
    status, out = send(server, headers, body)
    assert (status, out["__type"]) == (400, "UsernameExistsException")


# Matrix: SV-04
# Any region is accepted by default (README: "any region"): one cognate serves pools of
# every region, so the scope's region is not tied to one endpoint as on AWS. A verifier
# restricted to regions refuses others (sigv4.rs `a_disallowed_region_is_the_wrong_scope`).
def test_the_credential_scope_must_name_our_service_date_and_terminator(server, pool):
    params = {"UserPoolId": pool["id"]}
    yesterday = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y%m%d")
    for what, sign in {
        "service s3": {"service": "s3"},
        "scope date": {"scope_date": yesterday},
        "terminator": {"terminator": "aws5_request"},
    }.items():
        status, out = call(server, "ListUsers", params, **sign)
        assert (status, out["__type"]) == (400, "InvalidSignatureException"), (what, out)
    assert call(server, "ListUsers", params, region="eu-west-1")[0] == 200


# Matrix: SV-05
def test_changing_the_body_or_the_target_after_signing_is_refused(server, idp, pool):
    idp.admin_create_user(**_create(pool, "sv05"))
    body = json.dumps({"UserPoolId": pool["id"], "Username": "sv05"}).encode()
    headers = signed_headers_for(server, "AdminEnableUser", body)
    swapped = dict(headers, **{"x-amz-target": TARGET + "AdminDisableUser"})
    status, out = send(server, swapped, body)
    assert (status, out["__type"]) == (400, "InvalidSignatureException")
    # Signed without the target, then the target added: refused too.
    unsigned_target = signed_headers_for(server, "AdminDisableUser", body, signed=("content-type", "host", "x-amz-date"))
    status, out = send(server, unsigned_target, body)
    assert status == 400 and out["__type"] == "IncompleteSignatureException", out
    no_host = signed_headers_for(server, "AdminDisableUser", body, signed=("content-type", "x-amz-date", "x-amz-target"))
    assert send(server, no_host, body)[0] == 400
    other_body = json.dumps({"UserPoolId": pool["id"], "Username": "alice"}).encode()
    assert send(server, swapped, other_body)[0] == 400
    assert idp.admin_get_user(UserPoolId=pool["id"], Username="sv05")["Enabled"] is True


# Matrix: SV-07
# cognate has no per-key scoping: every key in COGNATE_API_KEYS is an administrator of
# every pool (like one IAM principal with cognito-idp:*). Reported as missing in issue 8.
# What holds: immutable attributes cannot be set, and other pools are plain not-found.
def test_immutable_attributes_are_refused_and_unknown_pools_are_not_found(idp, pool):
    idp.admin_create_user(**_create(pool, "sv07"))
    sub = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool["id"], Username="sv07")["UserAttributes"]}["sub"]
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_update_user_attributes(UserPoolId=pool["id"], Username="sv07",
                                         UserAttributes=[{"Name": "sub", "Value": str(uuid.uuid4())}])
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool["id"], Username="sv07")["UserAttributes"]}
    assert attrs["sub"] == sub
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_get_user(UserPoolId="us-east-1_NoSuchPool", Username="sv07")


# --- RD-05: client URLs ----------------------------------------------------------------

BAD_URLS = [
    "https://*.example.com/cb",
    "https://app.example.com/*",
    "http://app.example.com/cb",
    "https://user:pw@app.example.com/cb",
    "https://app.example.com/cb#frag",
    "javascript:alert(1)",
    "data:text/html,x",
    "https://app.example.com\\@evil.test/cb",
    "https://app.example.com/cb\r\nSet-Cookie: x=1",
]


# Matrix: RD-05
def test_bad_callback_and_sign_out_urls_are_invalid_parameters(idp):
    pool_id = idp.create_user_pool(PoolName="rd05")["UserPool"]["Id"]
    base = {"UserPoolId": pool_id, "ClientName": "app", "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"]}
    ok = idp.create_user_pool_client(**base, CallbackURLs=["https://app.example.com/cb"],
                                     LogoutURLs=["https://app.example.com/"])["UserPoolClient"]
    for url in BAD_URLS:
        for field in ("CallbackURLs", "LogoutURLs"):
            urls = {"CallbackURLs": ["https://app.example.com/cb"], field: [url]}
            with pytest.raises(idp.exceptions.InvalidParameterException):
                idp.create_user_pool_client(**base, **urls)
            with pytest.raises(idp.exceptions.InvalidParameterException):
                idp.update_user_pool_client(ClientId=ok["ClientId"], **base, **urls)
    # Nothing changed, and loopback http (development) is allowed.
    kept = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=ok["ClientId"])["UserPoolClient"]
    assert kept["CallbackURLs"] == ["https://app.example.com/cb"]
    idp.create_user_pool_client(**base, CallbackURLs=["http://localhost:3000/cb", "http://127.0.0.1/cb"])


# --- LU: ListUsers ---------------------------------------------------------------------


def users_matching(idp, pool, filter_):
    return sorted(u["Username"] for u in idp.list_users(UserPoolId=pool["id"], Filter=filter_)["Users"])


# Matrix: LU-01
def test_like_metacharacters_and_sql_in_filter_values_are_literal(idp, pool):
    for name in ["a%b", "a_b", "ab", "x", "a\\%c"]:
        idp.admin_create_user(**_create(pool, name), UserAttributes=[{"Name": "email", "Value": f"{len(name)}@example.com"}])
    assert users_matching(idp, pool, 'username ^= "%"') == []
    assert users_matching(idp, pool, 'username ^= "_"') == []
    assert users_matching(idp, pool, 'username ^= "a%"') == ["a%b"]
    assert users_matching(idp, pool, 'username ^= "a_"') == ["a_b"]
    assert users_matching(idp, pool, 'username ^= "a"') == ["a%b", "a\\%c", "a_b", "ab"]
    assert users_matching(idp, pool, r'username ^= "a\\%"') == ["a\\%c"]
    assert users_matching(idp, pool, 'email = "x\' OR \'1\'=\'1"') == []
    assert users_matching(idp, pool, r'name = "\" OR 1=1 --"') == []
    assert users_matching(idp, pool, 'username = "x"') == ["x"]


# Matrix: LU-02
@pytest.mark.parametrize(
    "filter_",
    [
        'password = "x"',
        'custom:tier = "x"',
        'username) OR (1=1 = "x"',
        '"email" = "x"',
        'email != "x"',
        'email > "x"',
        'email LIKE "x"',
        'email = "x" "',
        'email = \'x\'',
        'email = "x\\"',
        'email = "\x00"',
        'email = "' + "x" * 300 + '"',
    ],
)
def test_attribute_names_and_grammar_abuse_are_invalid_parameters(idp, pool, filter_):
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_users(UserPoolId=pool["id"], Filter=filter_)


# Matrix: LU-03
def test_limits_and_tampered_or_foreign_pagination_tokens_are_refused(idp, pool, server_env):
    for i in range(3):
        idp.admin_create_user(**_create(pool, f"lu03-{i}"))
    for limit in (61, 0):
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.list_users(UserPoolId=pool["id"], Limit=limit)
    token = idp.list_users(UserPoolId=pool["id"], Limit=1)["PaginationToken"]
    raw = bytearray(token.encode())
    for i in range(len(raw)):
        tampered = raw.copy()
        tampered[i] = ord("A") if tampered[i] != ord("A") else ord("B")
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.list_users(UserPoolId=pool["id"], Limit=1, PaginationToken=tampered.decode())
    other = idp.create_user_pool(PoolName="lu03-other")["UserPool"]["Id"]
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_users(UserPoolId=other, Limit=1, PaginationToken=token)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_users(UserPoolId=pool["id"], Limit=1, PaginationToken=token, Filter='username ^= "lu03"')


# --- UN-01: usernames.txt ---------------------------------------------------------------

PAYLOADS = pathlib.Path(__file__).resolve().parents[1] / "payloads" / "usernames.txt"


def username_groups():
    """(tag, what, [values]) for each group of usernames.txt."""
    groups = []
    for line in PAYLOADS.read_text(encoding="utf-8").split("\n"):
        if line.startswith("# group "):
            tag, what = line[len("# group "):].split(":", 1)
            groups.append((tag.strip(), what.strip(), []))
        elif line.startswith("#") or not groups or line == "":
            continue
        elif line.startswith("b64:"):
            groups[-1][2].append(base64.b64decode(line[4:]).decode("utf-8"))
        else:
            groups[-1][2].append(line)
    return groups


class Entry:
    """Every entry point a username reaches, each reporting who it found (or None)."""

    def __init__(self, server, pool):
        # No client-side validation: empty and over-long names must reach the server.
        self.idp = make_client(server, parameter_validation=False)
        self.unsigned = make_client(server, signature_version=botocore.UNSIGNED, parameter_validation=False)
        self.pool = pool

    def create(self, name):
        """AdminCreateUser: the created username, 'exists', or 'rejected'."""
        try:
            user = self.idp.admin_create_user(**_create(self.pool, name), TemporaryPassword=PASSWORD)["User"]
            self.idp.admin_set_user_password(UserPoolId=self.pool["id"], Username=name, Password=PASSWORD, Permanent=True)
            return user["Username"]
        except self.idp.exceptions.UsernameExistsException:
            return "exists"
        except self.idp.exceptions.InvalidParameterException:
            return "rejected"

    def sign_up(self, name):
        try:
            self.unsigned.sign_up(ClientId=self.pool["client_id"], Username=name, Password=PASSWORD,
                                  UserAttributes=[{"Name": "email", "Value": "un01@example.com"}])
            return "created"
        except self.unsigned.exceptions.UsernameExistsException:
            return "exists"
        except self.unsigned.exceptions.InvalidParameterException:
            return "rejected"

    def get(self, name):
        try:
            return self.idp.admin_get_user(UserPoolId=self.pool["id"], Username=name)["Username"]
        except (self.idp.exceptions.UserNotFoundException, self.idp.exceptions.InvalidParameterException):
            return None

    def sign_in(self, name):
        """The access token's username after USER_PASSWORD_AUTH, or None."""
        try:
            out = self.unsigned.initiate_auth(ClientId=self.pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                              AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
        except (self.unsigned.exceptions.NotAuthorizedException, self.unsigned.exceptions.UserNotFoundException,
                self.unsigned.exceptions.InvalidParameterException, self.unsigned.exceptions.UserNotConfirmedException):
            return None
        token = out["AuthenticationResult"]["AccessToken"].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["username"]

    def forgot(self, name):
        """ForgotPassword's answer (the same whether or not the user exists), or 'rejected'."""
        try:
            return self.unsigned.forgot_password(ClientId=self.pool["client_id"], Username=name)["CodeDeliveryDetails"]["DeliveryMedium"]
        except self.unsigned.exceptions.InvalidParameterException:
            return "rejected"
        except (self.unsigned.exceptions.UserNotFoundException, self.unsigned.exceptions.LimitExceededException):
            return "not sent"

    def listed(self, name):
        """Who `username = "<name>"` lists."""
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        try:
            return sorted(u["Username"] for u in self.idp.list_users(
                UserPoolId=self.pool["id"], Filter=f'username = "{quoted}"')["Users"])
        except self.idp.exceptions.InvalidParameterException:
            return None


@pytest.fixture
def open_pool(idp):
    """A pool with self sign-up and a client allowing password sign-in."""
    pool_id = idp.create_user_pool(PoolName=f"un01-{uuid.uuid4().hex[:6]}",
                                   Policies={"PasswordPolicy": {"MinimumLength": 8}})["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    return {"id": pool_id, "client_id": client["UserPoolClient"]["ClientId"]}


def _group_ids():
    return [f"{i:02}-{tag}" for i, (tag, _, _) in enumerate(username_groups())]


# Matrix: UN-01
@pytest.mark.parametrize("index", range(len(username_groups())), ids=_group_ids())
def test_every_username_group_behaves_as_tagged_at_every_entry_point(server, open_pool, index):
    tag, what, values = username_groups()[index]
    e = Entry(server, open_pool)
    if tag == "REJECT" and "email" in what:
        # Addresses, not usernames ("alice" is a fine username): refused as the email
        # attribute, at AdminCreateUser and SignUp alike.
        for v in values:
            with pytest.raises(e.idp.exceptions.InvalidParameterException):
                e.idp.admin_create_user(**_create(open_pool, "un01-mail"), UserAttributes=[{"Name": "email", "Value": v}])
            with pytest.raises(e.unsigned.exceptions.InvalidParameterException):
                e.unsigned.sign_up(ClientId=open_pool["client_id"], Username="un01-mail", Password=PASSWORD,
                                   UserAttributes=[{"Name": "email", "Value": v}])
        assert e.get("un01-mail") is None
        return
    if tag == "REJECT":
        for v in values:
            assert e.create(v) == "rejected", (what, v)
            assert e.sign_up(v) == "rejected", (what, v)
            assert e.get(v) is None and e.sign_in(v) is None, (what, v)
        assert e.idp.list_users(UserPoolId=open_pool["id"])["Users"] == [], what
        return
    first, rest = values[0], values[1:]
    if tag in ("ACCEPT", "INERT"):
        made = {}
        for v in values:
            got = e.create(v)
            assert got != "exists" or tag == "INERT", (what, v)
            if got not in ("rejected", "exists"):
                assert got == v, (what, v, got)
                made[v] = got
        for v, name in made.items():
            assert e.get(v) == name, (what, v)
            assert e.sign_in(v) == name, (what, v)
            assert e.listed(v) == [name], (what, v)
            assert e.forgot(v) in ("EMAIL", "not sent"), (what, v)
        return
    owner = e.create(first)
    assert owner == first, (what, first)
    for v in rest:
        created = e.create(v)
        signed_up = e.sign_up(v)
        found, signed_in, listed = e.get(v), e.sign_in(v), e.listed(v)
        if tag == "SAME":
            assert (created, signed_up) == ("exists", "exists"), (what, v)
            assert found == owner and signed_in == owner and listed == [owner], (what, v)
        elif tag == "NOT-DISTINCT":
            assert created in ("exists", "rejected") and signed_up in ("exists", "rejected"), (what, v, created)
            assert found in (owner, None) and signed_in in (owner, None), (what, v)
        elif tag == "DISTINCT":
            assert created == v, (what, v, created)
            assert found == v and signed_in == v and listed == [v], (what, v)
        elif tag == "CONSISTENT":
            # Either way, every entry point names the same account.
            assert created in (v, "exists", "rejected"), (what, v, created)
            if created != "rejected":
                assert found is not None and signed_in == found and listed == [found], (what, v)
                assert signed_up == "exists", (what, v)
        assert e.forgot(v) in ("EMAIL", "not sent", "rejected"), (what, v)
