"""`python -m sqlflow` runs the CLI."""

from sqlflow.cli.main import main

main()
