"""Settings: every configurable value resolved in one place, with where it came from.

`spec` is the table (one row per setting), `resolve` applies the precedence rules, `config_file`
reads and validates the TOML file, `tokens` normalises and redacts tokens, `choices` holds the enums
any layer may read, `fly_toml` finds the app a project directory names.
"""
