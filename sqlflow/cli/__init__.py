"""sqlflow.cli"""
