"""Custom message and pre sign-up handlers written as Lambda code, served by
tools/lambda_runner/lambda_runner.py for tests/python/test_triggers_custom.py. Each records
the event it got in TRIGGER_EVENTS_DIR, named after its trigger source and user."""
import json
import os


def _record(event):
    d = os.environ["TRIGGER_EVENTS_DIR"]
    name = f"{event['triggerSource']}-{event['userName']}.json"
    with open(os.path.join(d, name), "w") as f:
        json.dump(event, f)


def custom_message(event, context):
    """Brands every message; the recipient's domain picks a misbehaviour for the tests."""
    _record(event)
    request = event["request"]
    domain = request["userAttributes"].get("email", "").rpartition("@")[2]
    if domain == "raise.example":
        raise Exception("No mail to raise.example")
    if (request.get("clientMetadata") or {}).get("fail"):
        raise Exception(request["clientMetadata"]["fail"])
    source = event["triggerSource"]
    if domain == "nocode.example":
        event["response"]["emailMessage"] = "Welcome aboard! There is no code in this message."
        return event
    event["response"]["emailSubject"] = f"Acme: {source}"
    if domain == "subject-only.example":
        return event
    if source == "CustomMessage_AdminCreateUser":
        event["response"]["emailMessage"] = (
            f"Welcome to Acme, {request['usernameParameter']}!\n"
            f"Your temporary password: {request['codeParameter']}"
        )
    else:
        team = (request.get("clientMetadata") or {}).get("team", "nobody")
        # Branded as Cognito sends it: the message is the mail's HTML.
        event["response"]["emailMessage"] = f"<p>Acme ({team}) code: <b>{request['codeParameter']}</b></p>"
        if request.get("linkParameter"):
            event["response"]["emailMessage"] += f"\nOr: {request['linkParameter']}"
    return event


def pre_sign_up(event, context):
    _record(event)
    return event


def custom_message_bad_type(event, context):
    """An answer that is not what Cognito expects back: the message is a number."""
    event["response"]["emailMessage"] = 42
    return event
