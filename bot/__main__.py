"""`python -m bot` is the `firewatch` command."""

from bot.cli import main

main()
