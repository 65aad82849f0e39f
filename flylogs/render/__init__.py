"""Rendering: turning events and notices into bytes for a terminal or a pipe.

Owns: every output mode (table, plain, json, raw), escaping of untrusted text, colours and styles.
Only this package imports Rich. Must not: decide what to show (that is filtering) or touch the network.
"""
