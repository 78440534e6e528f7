"""The programs over the API: the command line and the web app."""
