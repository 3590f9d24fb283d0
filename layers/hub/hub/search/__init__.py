"""Web search: one operation over any provider declaring the WebSearch port."""
