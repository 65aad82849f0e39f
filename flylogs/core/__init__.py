"""The sans-I/O core: typed events in, decisions out; no event loop, no clock, no I/O.

`tail.TailCore.feed(event, now_ns)` decodes, filters, adds context, de-duplicates, keeps the gap
bookkeeping (`gaps`), the connection status (`status`) and the history seams (`history`). The
connection policy (`policy`: stall detection, server choice, backoff, which errors are fatal) is a
small pure object the NATS adapter consults.
"""
