"""Trigger handlers written as Lambda code, served by tools/lambda_runner/lambda_runner.py
for tests/python/test_triggers.py. Each records the event it got in TRIGGER_EVENTS_DIR."""
import json
import os
import time


def _record(event):
    d = os.environ["TRIGGER_EVENTS_DIR"]
    with open(os.path.join(d, event["triggerSource"] + ".json"), "w") as f:
        json.dump(event, f)


def pre_sign_up(event, context):
    _record(event)
    email = event["request"]["userAttributes"].get("email", "")
    if email.endswith("@blocked.example"):
        raise Exception("Sign-ups from blocked.example are not allowed")
    if email.endswith("@auto.example"):
        event["response"]["autoConfirmUser"] = True
        event["response"]["autoVerifyEmail"] = True
    return event


def slow(event, context):
    time.sleep(8)
    return event


def malformed(event, context):
    return "this is not {json"


def giant(event, context):
    """An answer over the 256 KiB cognate reads."""
    event["response"]["padding"] = "x" * (300 * 1024)
    return event


def wrong_types(event, context):
    event["response"]["autoConfirmUser"] = "yes"
    return event


def post_confirmation(event, context):
    _record(event)
    return event


def pre_token(event, context):
    _record(event)
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"tenant": "acme", "email": "hidden@example.com"},
        "claimsToSuppress": ["custom:team"],
        "groupOverrideDetails": {"groupsToOverride": ["from-trigger"]},
    }
    return event


def pre_token_reserved(event, context):
    event["response"]["claimsOverrideDetails"] = {"claimsToAddOrOverride": {"sub": "someone-else"}}
    return event


def pre_token_machine(event, context):
    """A V3 handler: a machine's access token gets a tenant and loses a scope."""
    _record(event)
    if event["triggerSource"] == "TokenGeneration_ClientCredentials":
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tenant": "machines"},
                "scopesToSuppress": ["https://api.example.com/write"],
            }
        }
    return event
