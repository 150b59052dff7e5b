"""A classic one-time-code custom sign-in, written as the three Lambda triggers Cognito's
custom authentication flow calls, served by tools/lambda_runner/lambda_runner.py for
tests/python/test_triggers_custom_auth.py.

define: a CUSTOM_CHALLENGE until one is answered right; tokens then; failure after three
wrong answers. create: a six-digit code, "sent" by writing it to
TRIGGER_EVENTS_DIR/code-<userName>.txt (the test reads it as a user reads a mail), kept
for the retries of one sign-in; the answer goes in privateChallengeParameters, never in
the public ones. verify: compares. Each handler appends the event it got to
TRIGGER_EVENTS_DIR/<userName>.jsonl."""
import json
import os
import secrets

MAX_WRONG = 3


def _dir():
    return os.environ["TRIGGER_EVENTS_DIR"]


def _record(event):
    with open(os.path.join(_dir(), event["userName"] + ".jsonl"), "a") as f:
        f.write(json.dumps(event) + "\n")


def define(event, context):
    _record(event)
    session = event["request"]["session"]
    wrong = sum(1 for c in session if not c["challengeResult"])
    response = event["response"]
    if session and session[-1]["challengeName"] == "CUSTOM_CHALLENGE" and session[-1]["challengeResult"]:
        response["issueTokens"] = True
        response["failAuthentication"] = False
    elif wrong >= MAX_WRONG:
        response["issueTokens"] = False
        response["failAuthentication"] = True
    else:
        response["issueTokens"] = False
        response["failAuthentication"] = False
        response["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def create(event, context):
    _record(event)
    path = os.path.join(_dir(), "code-" + event["userName"] + ".txt")
    session = event["request"]["session"]
    if session and os.path.exists(path):
        # A retry within the same sign-in: the code already sent stays the one.
        with open(path) as f:
            code = f.read().strip()
    else:
        code = "".join(secrets.choice("0123456789") for _ in range(6))
        with open(path, "w") as f:
            f.write(code)
    event["response"]["publicChallengeParameters"] = {
        "delivery": "EMAIL",
        "attempt": str(len(session) + 1),
    }
    event["response"]["privateChallengeParameters"] = {"code": code}
    event["response"]["challengeMetadata"] = f"EMAIL_CODE-{len(session) + 1}"
    return event


def verify(event, context):
    _record(event)
    expected = event["request"]["privateChallengeParameters"].get("code")
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == expected
    return event


def define_raises(event, context):
    raise Exception("The sign-in service is closed for maintenance")


def define_malformed(event, context):
    event["response"]["issueTokens"] = "yes, please"
    return event


def define_asks_for_password(event, context):
    event["response"]["challengeName"] = "PASSWORD_VERIFIER"
    return event


def define_always_challenges(event, context):
    """Never decides: the server's bound on rounds must end the sign-in."""
    event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def verify_malformed(event, context):
    event["response"]["answerCorrect"] = "maybe"
    return event


def record(event, context):
    """Pre/post authentication and pre token generation: only records the event."""
    _record(event)
    return event
