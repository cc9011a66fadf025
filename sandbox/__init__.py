"""Local stand-ins for Zoho CRM v8 and the Xero Accounting API.

Used by `make run`, demos, integration tests and benchmarks. Never shipped to Lambda.
"""
