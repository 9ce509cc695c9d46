"""The one Slack error-code helper (bot.core.slack_errors), on real slack_sdk responses."""

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.core.slack_errors import slack_error_code


def _response(data, status=200):
    return SlackResponse(client=None, http_verb="POST", api_url="https://slack.invalid/api/chat.postMessage",
                         req_args={}, data=data, headers={}, status_code=status)


def test_slack_api_error_gives_slacks_code():
    exc = SlackApiError("failed", _response({"ok": False, "error": "name_taken"}))
    assert slack_error_code(exc) == "name_taken"


def test_response_without_an_error_field_gives_the_http_status():
    assert slack_error_code(SlackApiError("bad gateway", _response({}, status=502))) == "http_502"


def test_other_exceptions_give_their_class():
    assert slack_error_code(TimeoutError("slow")) == "TimeoutError"
    assert slack_error_code(ConnectionRefusedError()) == "ConnectionRefusedError"


def test_a_plain_dict_response_is_read_too():
    assert slack_error_code(SlackApiError("failed", {"ok": False, "error": "ratelimited"})) == "ratelimited"
