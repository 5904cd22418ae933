"""sqlflow.runner"""
