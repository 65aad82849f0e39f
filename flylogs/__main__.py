"""`python -m flylogs`: the same entry point as the `flylogs` script."""

from flylogs.cli import main

main()
