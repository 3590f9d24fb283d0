"""Integration management per client org: the records (status, tests, webhook, token expiry)
and the operations that connect, test, disable, enable, rotate and list them
(docs/integrations.md)."""
