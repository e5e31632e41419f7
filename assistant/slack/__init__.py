"""The Slack front: a Bolt app that answers mentions, direct messages and /risk in threads.

`mrkdwn` escapes untrusted text, `blocks` renders an Answer as Block Kit, `memory` keeps the bounded
per-thread state, `bot` runs questions and posts the replies, `app` wires them to Bolt, `serve` runs it.
"""
