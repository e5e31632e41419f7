"""Renderers of an Answer, one per target (markdown for the web UI, plain text for the CLI; Slack later).

`parts.sections` says what an answer shows and in which order, as plain text with citation markers;
each renderer escapes that text for its own target and formats the markers.
"""
