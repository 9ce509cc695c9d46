"""Coverage checks (gaps, policies reaching nobody, on-call people without a working contact method) and
`firewatch simulate alert`."""
