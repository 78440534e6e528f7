"""The team server: a REST API beside the web page, users and tokens, sign-in (README "API", "Teams")."""
