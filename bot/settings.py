"""Process settings from the environment (secrets and endpoints); team configuration lives in firewatch.yaml."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///./firewatch.db"


class Settings(BaseSettings):
    """Environment names are a contract: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN,
    FIREWATCH_SLACK_API_URL, FIREWATCH_DATABASE_URL, FIREWATCH_CONFIG."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias=AliasChoices("FIREWATCH_SLACK_API_URL"))
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias=AliasChoices("FIREWATCH_DATABASE_URL"))
    config_path: str = Field(default="./firewatch.yaml", validation_alias=AliasChoices("FIREWATCH_CONFIG"))
    # Public base URL of this server, used in links (iCal feeds). Optional.
    public_url: str | None = Field(default=None, validation_alias=AliasChoices("FIREWATCH_PUBLIC_URL"))
    # Request body caps, in bytes: larger bodies get 413 before the rest is read.
    slack_max_body_bytes: int = Field(default=1024 * 1024, gt=0,
                                      validation_alias=AliasChoices("FIREWATCH_SLACK_MAX_BODY_BYTES"))
    webhook_max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0,
                                        validation_alias=AliasChoices("FIREWATCH_WEBHOOK_MAX_BODY_BYTES"))
    # Log line format: "text" (default) or "json" (one object per line, for log shippers).
    log_format: str = Field(default="text", pattern="^(json|text)$",
                            validation_alias=AliasChoices("FIREWATCH_LOG_FORMAT"))

    def model_post_init(self, __context) -> None:
        # Secrets given to the process are removed from anything sent to a model, even when they were passed in
        # directly rather than through the environment (see bot.assist.domain.redaction).
        from bot.assist.domain.redaction import register_secrets

        register_secrets(self.secret_values())

    def secret_values(self) -> list[str]:
        """The configured secret values (tokens and the signing secret), for redaction."""
        return [v for v in (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token) if v]

    @property
    def normalized_slack_api_url(self) -> str:
        # slack_sdk joins the method name onto the base URL, so it must end with a slash.
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    def missing_for(self, mode: str) -> list[str]:
        """Environment variables that `firewatch serve --mode MODE` cannot run without."""
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if mode == "http" and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        if mode == "socket" and not self.slack_app_token:
            missing.append("SLACK_APP_TOKEN")
        return missing
