"""Running Firewatch in production: logging set-up, start-up checks, environment checks."""
