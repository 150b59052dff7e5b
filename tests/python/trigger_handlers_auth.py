"""Sign-in trigger handlers written as Lambda code, served by
tools/lambda_runner/lambda_runner.py for tests/python/test_triggers_auth.py. Each
records the event it got in TRIGGER_EVENTS_DIR, under its trigger source."""
import json
import os

# The legacy directory a migration handler looks users up in.
LEGACY = {
    "old-ann": ("Legacy-pass-1", {"email": "old-ann@example.com", "email_verified": "true"}),
    "old-bob": ("Legacy-pass-2", {"email": "old-bob@example.com", "email_verified": "true"}),
    "old-weak": ("weak", {"email": "old-weak@example.com", "email_verified": "true"}),
    "old-reset": ("Legacy-pass-3", {"email": "old-reset@example.com", "email_verified": "true"}),
    "old-sub": ("Legacy-pass-4", {"email": "old-sub@example.com", "sub": "chosen-by-the-handler"}),
}


def _record(event):
    d = os.environ["TRIGGER_EVENTS_DIR"]
    with open(os.path.join(d, event["triggerSource"] + ".json"), "w") as f:
        json.dump(event, f)


def pre_auth(event, context):
    _record(event)
    if event["request"]["userAttributes"].get("email", "").endswith("@banned.example"):
        raise Exception("Banned users may not sign in")
    return event


def post_auth(event, context):
    _record(event)
    if event["request"]["userAttributes"].get("email", "").endswith("@audit-down.example"):
        raise Exception("The audit log is down")
    return event


def pre_token(event, context):
    _record(event)
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"source": event["triggerSource"]},
    }
    return event


def migrate(event, context):
    _record(event)
    name = event["userName"]
    if name not in LEGACY:
        raise Exception("User does not exist")
    password, attributes = LEGACY[name]
    if event["triggerSource"] == "UserMigration_Authentication":
        if event["request"]["password"] != password:
            raise Exception("Bad password")
        event["response"]["finalUserStatus"] = "RESET_REQUIRED" if name == "old-reset" else "CONFIRMED"
    else:
        event["response"]["finalUserStatus"] = "RESET_REQUIRED"
    event["response"]["userAttributes"] = dict(attributes)
    event["response"]["messageAction"] = "SUPPRESS"
    return event
