"""State every Lambda instance must share: circuit breakers and rate limits (DynamoDB)."""
