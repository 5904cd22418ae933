"""Data checks: data tests (failing rows, thresholds, stored failures), sensors, source freshness, and the
Great Expectations bridge (`gx`, loaded only when an expectation runs).

Sits beside `materializations`: imports adapters, manifest and errors, never the runner or a driver.
"""
