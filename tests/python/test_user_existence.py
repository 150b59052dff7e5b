"""PreventUserExistenceErrors: every unauthenticated action that takes a username answers a
real user and an unknown name alike — status, error code and message, the set of response
fields, each value's form, stability across calls, the failures it records (throttles,
code attempts, the message cap), and time within noise. SignUp is the one exception, as
on Cognito: a taken username is UsernameExistsException (docs/security.md).

The module runs its own server: it records dozens of failed sign-ins from 127.0.0.1,
which the session server's per-address throttle would carry into other modules."""
import base64
import json
import re
import statistics
import time
import uuid

import botocore
import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP, N_HEX

from conftest import PASSWORD, create_user, make_client, new_server_env, run_server

WRONG = "Wrong-pass-1"


@pytest.fixture(scope="module")
def existence_server():
    yield from run_server(new_server_env())


@pytest.fixture
def api(existence_server):
    """(signed client, unsigned client, pool): a fresh pool with PreventUserExistenceErrors
    ENABLED (the default) and a public client allowing every public flow."""
    idp = make_client(existence_server)
    unsigned = make_client(existence_server, signature_version=botocore.UNSIGNED)
    pool_id = idp.create_user_pool(PoolName=f"pue-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        PreventUserExistenceErrors="ENABLED",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return idp, unsigned, {"id": pool_id, "client_id": client["ClientId"]}


def real_user(idp, pool, name):
    """A confirmed user with a password and a verified email address (a reset goes
    only to a verified one)."""
    create_user(idp, pool, name, email=f"{uuid.uuid4().hex[:10]}@example.com", email_verified="true")
    return name


def unconfirmed_user(unsigned, pool, name):
    """A signed-up, unconfirmed user holding a live sign-up code."""
    unsigned.sign_up(ClientId=pool["client_id"], Username=name, Password=PASSWORD,
                     UserAttributes=[{"Name": "email", "Value": f"{uuid.uuid4().hex[:10]}@example.com"}])
    return name


def answer(call):
    """What a caller observes of one call: ("ok", body without metadata) or ("error",
    status, code, message, whether Retry-After is sent). A wait in seconds depends on
    where in a second the call fell, so its digits are masked."""
    try:
        out = call()
    except ClientError as e:
        r = e.response
        return ("error", r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"],
                re.sub(r"\d+", "N", r["Error"]["Message"]), "retry-after" in r["ResponseMetadata"]["HTTPHeaders"])
    return ("ok", {k: v for k, v in out.items() if k != "ResponseMetadata"})


def form(value):
    """A value's shape: its alphabet, and its length (in bytes for base64)."""
    if re.fullmatch(r"[0-9a-f]+", value):
        return "hex", len(value)
    if re.fullmatch(r"[A-Za-z0-9+/]{16,}={0,2}", value):
        return "base64", len(base64.b64decode(value))
    return re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"[0-9]", "9", value))), len(value)


def assert_same_forms(real, unknown):
    """The same fields, each of the same form; numbers may differ by a few leading zero
    digits or bytes, as two real answers do."""
    assert real.keys() == unknown.keys()
    for key in real:
        (kind, length), (other_kind, other_length) = form(real[key]), form(unknown[key])
        assert kind == other_kind and abs(length - other_length) <= 4, (key, real[key], unknown[key])


def srp_start(unsigned, pool, name, srp_a=None):
    srp = AWSSRP(username=name, password=WRONG, pool_id=pool["id"], client_id=pool["client_id"], client=unsigned)
    params = srp.get_auth_params()
    if srp_a is not None:
        params["SRP_A"] = srp_a
    out = unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_SRP_AUTH", AuthParameters=params)
    return srp, params, out


def respond(unsigned, pool, responses):
    return unsigned.respond_to_auth_challenge(ClientId=pool["client_id"], ChallengeName="PASSWORD_VERIFIER",
                                              ChallengeResponses=responses)


def password_auth(unsigned, pool, name, password=WRONG):
    return unsigned.initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": name, "PASSWORD": password})


# Matrix: PR-03
def test_forgot_password_and_resend_answer_alike_with_no_letter_of_the_address(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "pue-fay")
    pending = unconfirmed_user(unsigned, pool, "pue-una")
    for action, who in [(unsigned.forgot_password, real), (unsigned.resend_confirmation_code, pending)]:
        answers = {name: [answer(lambda: action(ClientId=pool["client_id"], Username=name)) for _ in range(2)]
                   for name in [who, "pue-nobody-" + who]}
        real_answers, unknown_answers = answers.values()
        assert real_answers == unknown_answers, action
        assert real_answers[0] == real_answers[1]
        assert real_answers[0] == ("ok", {"CodeDeliveryDetails": {
            "Destination": "***@***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}})


# Matrix: PR-03
def test_the_message_cap_falls_on_the_same_request_for_real_and_unknown_names(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "pue-cap")
    sequences = [[answer(lambda: unsigned.forgot_password(ClientId=pool["client_id"], Username=name))[:3]
                  for _ in range(7)] for name in [real, "pue-cap-nobody"]]
    assert sequences[0] == sequences[1]
    assert sequences[0][-1] == ("error", 400, "LimitExceededException"), sequences[0]


# Matrix: PR-03
def test_wrong_confirmation_codes_answer_alike_until_the_code_dies(api):
    idp, unsigned, pool = api
    pending = unconfirmed_user(unsigned, pool, "pue-conf")
    confirmed = real_user(idp, pool, "pue-conf-done")
    sequences = {}
    for name in [pending, confirmed, "pue-conf-nobody"]:
        sequences[name] = [answer(lambda: unsigned.confirm_sign_up(
            ClientId=pool["client_id"], Username=name, ConfirmationCode=f"{n:06}")) for n in range(6)]
    # A live code is almost surely none of 000000..000005; if it is, the account confirmed.
    if any(a[0] == "ok" for a in sequences[pending]):
        pytest.skip("the random code was one of the guesses")
    first, *rest = sequences.values()
    assert all(s == first for s in rest), sequences
    assert [a[2] for a in first] == ["CodeMismatchException"] * 4 + ["LimitExceededException"] * 2


# Matrix: PR-03
def test_wrong_reset_codes_answer_alike_with_or_without_a_reset_requested(api):
    idp, unsigned, pool = api
    for requested in [True, False]:
        real = real_user(idp, pool, f"pue-reset-{requested}".lower())
        sequences = []
        for name in [real, f"{real}-nobody"]:
            if requested:
                unsigned.forgot_password(ClientId=pool["client_id"], Username=name)
            sequences.append([answer(lambda: unsigned.confirm_forgot_password(
                ClientId=pool["client_id"], Username=name, ConfirmationCode=f"{n:06}", Password="Brand-new-pass-7"))
                for n in range(6)])
        if any(a[0] == "ok" for a in sequences[0]):
            pytest.skip("the random code was one of the guesses")
        assert sequences[0] == sequences[1], requested
        assert [a[2] for a in sequences[0]] == ["CodeMismatchException"] * 4 + ["LimitExceededException"] * 2
        # The policy is checked before anything else, for every name.
        weak = [answer(lambda: unsigned.confirm_forgot_password(
            ClientId=pool["client_id"], Username=name, ConfirmationCode="123456", Password="short"))
            for name in [real, f"{real}-nobody"]]
        assert weak[0] == weak[1] and weak[0][2] == "InvalidPasswordException"


# Matrix: PR-03
def test_password_sign_in_answers_and_throttles_alike(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "pue-pw")
    sequences = [[answer(lambda: password_auth(unsigned, pool, name)) for _ in range(6)]
                 for name in [real, "pue-pw-nobody"]]
    assert sequences[0] == sequences[1]
    assert [a[2] for a in sequences[0]] == ["NotAuthorizedException"] * 5 + ["TooManyRequestsException"]


# Matrix: PR-03
def test_srp_challenges_have_the_same_fields_forms_and_stability(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "Pue-Srp-A")
    challenges = {}
    # Typed in another case: the echo must not reveal the stored spelling.
    # Names of one length: the secret block carries the name, so its length follows it.
    for typed in ["PUE-Srp-A", "PUE-Srp-B"]:
        challenges[typed] = [srp_start(unsigned, pool, typed)[2] for _ in range(2)]
    (real_1, real_2), (unknown_1, unknown_2) = challenges.values()
    for one, two, typed in [(real_1, real_2, "PUE-Srp-A"), (unknown_1, unknown_2, "PUE-Srp-B")]:
        assert one.keys() - {"ResponseMetadata"} == {"ChallengeName", "ChallengeParameters"}
        assert one["ChallengeName"] == "PASSWORD_VERIFIER"
        p1, p2 = one["ChallengeParameters"], two["ChallengeParameters"]
        assert p1["SALT"] == p2["SALT"], "the salt is stable per name"
        assert p1["SRP_B"] != p2["SRP_B"] and p1["SECRET_BLOCK"] != p2["SECRET_BLOCK"]
        assert p1["USERNAME"] == p1["USER_ID_FOR_SRP"] == typed.lower()
    assert_same_forms(real_1["ChallengeParameters"], unknown_1["ChallengeParameters"])
    assert real_1["ChallengeParameters"]["SALT"] != unknown_1["ChallengeParameters"]["SALT"]
    # The stored spelling still signs in, typed in any case, through the SDK.
    srp = AWSSRP(username="pUE-sRP-a", password=PASSWORD, pool_id=pool["id"], client_id=pool["client_id"],
                 client=unsigned)
    id_token = srp.authenticate_user()["AuthenticationResult"]["IdToken"].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(id_token + "=" * (-len(id_token) % 4)))["cognito:username"] == real


# Matrix: PR-03
def test_password_verifier_answers_alike_for_a_wrong_proof_and_for_missing_parameters(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "pue-pv")
    wrong_proof, only_username = [], []
    for name in [real, "pue-pv-nobody"]:
        srp, params, out = srp_start(unsigned, pool, name)
        responses = srp.process_challenge(out["ChallengeParameters"], params)
        wrong_proof.append(answer(lambda: respond(unsigned, pool, responses)))
        only_username.append(answer(lambda: respond(unsigned, pool, {"USERNAME": name})))
    assert wrong_proof[0] == wrong_proof[1]
    assert wrong_proof[0][:3] == ("error", 400, "NotAuthorizedException")
    assert only_username[0] == only_username[1]
    assert only_username[0][:3] == ("error", 400, "InvalidParameterException")
    # The stand-in's challenge cannot be answered by anyone; the real one still can.
    srp = AWSSRP(username=real, password=PASSWORD, pool_id=pool["id"], client_id=pool["client_id"], client=unsigned)
    assert "AuthenticationResult" in srp.authenticate_user()


# Matrix: PR-03
def test_sign_up_differs_only_where_cognito_documents_it(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "pue-su")

    def sign_up(name, password):
        return answer(lambda: unsigned.sign_up(ClientId=pool["client_id"], Username=name, Password=password,
                                               UserAttributes=[{"Name": "email", "Value": "su@example.com"}]))

    # Every rule is checked before the name is looked up.
    weak = [sign_up(name, "short") for name in [real, "pue-su-nobody"]]
    assert weak[0] == weak[1] and weak[0][2] == "InvalidPasswordException"
    # Cognito's SignUp names a taken username whatever PreventUserExistenceErrors says.
    assert sign_up(real, PASSWORD)[2] == "UsernameExistsException"
    assert sign_up("pue-su-nobody", PASSWORD)[0] == "ok"


def median_seconds(call, times=5):
    """The median time of `times` calls, after one unmeasured call (a cold start is no
    evidence)."""
    spent = []
    for n in range(times + 1):
        started = time.perf_counter()
        try:
            call()
        except ClientError:
            pass
        if n:
            spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def close(real, unknown):
    """Medians on a shared, loaded machine: only a gross difference (an argon2 hash or an
    exponentiation skipped for one side) counts."""
    return abs(real - unknown) < max(0.05, 0.5 * max(real, unknown))


def assert_close(real, unknown, what):
    assert close(real, unknown), (what, real, unknown)


def interleaved_medians(real_call, unknown_call, times=5, attempts=2):
    """The median times of both calls, measured in turn so that a burst of load on the
    machine falls on both sides alike; measured again once if they differ (a real
    difference shows every time, a stall of the machine rarely twice)."""
    for _ in range(attempts):
        spent = {real_call: [], unknown_call: []}
        for n in range(times + 1):
            for call in (real_call, unknown_call):
                started = time.perf_counter()
                try:
                    call()
                except ClientError:
                    pass
                if n:
                    spent[call].append(time.perf_counter() - started)
        real, unknown = statistics.median(spent[real_call]), statistics.median(spent[unknown_call])
        if close(real, unknown):
            break
    return real, unknown


# Matrix: PR-03
def test_real_and_unknown_names_take_the_same_time(api):
    idp, unsigned, pool = api
    # Twelve: USER_PASSWORD_AUTH takes a name per call, six calls per attempt.
    reals = [real_user(idp, pool, f"pue-t{i}") for i in range(12)]
    unknowns = [f"pue-t{i}-nobody" for i in range(12)]
    for flow, call in [
        # A different name each time, so no throttle cuts a call short.
        ("USER_PASSWORD_AUTH", lambda names: lambda: password_auth(unsigned, pool, names.pop())),
        ("USER_SRP_AUTH", lambda names: lambda: srp_start(unsigned, pool, names[0])),
        ("ForgotPassword", lambda names: lambda: unsigned.forgot_password(ClientId=pool["client_id"], Username=names[1])),
    ]:
        real, unknown = interleaved_medians(call(list(reals)), call(list(unknowns)))
        assert_close(real, unknown, flow)
    # PASSWORD_VERIFIER with a wrong proof: the full SRP arithmetic either way.
    spent = {}
    for side, names in [("real", reals), ("unknown", unknowns)]:
        proofs = []
        for name in names[2:6]:
            srp, params, out = srp_start(unsigned, pool, name)
            proofs.append(srp.process_challenge(out["ChallengeParameters"], params))
        spent[side] = median_seconds(lambda: respond(unsigned, pool, proofs.pop()), times=3)
    assert_close(spent["real"], spent["unknown"], "PASSWORD_VERIFIER")


# Matrix: PR-12
def test_srp_a_of_one_or_n_minus_one_is_refused_without_a_challenge(api):
    idp, unsigned, pool = api
    real = real_user(idp, pool, "pue-a")
    n = int(N_HEX, 16)
    for bad in ["1", "01", format(n - 1, "x"), format(2 * n - 1, "x"), "0", format(n, "x")]:
        with pytest.raises(unsigned.exceptions.InvalidParameterException):
            srp_start(unsigned, pool, real, srp_a=bad)
    # A = 2 is a valid (if odd) value: it is answered.
    assert srp_start(unsigned, pool, real, srp_a="2")[2]["ChallengeName"] == "PASSWORD_VERIFIER"
