"""Local stand-ins used by the demo and the tests: a fake Slack Web API and a signed-request sender."""
